"""The HTTP/framework floor for the paging benchmark: a bare FastAPI app that
answers a precomputed 50-row page, in the same shapes the desk API uses.

* ``GET /page``: a sync ``def`` endpoint (thread pool, like the desk's routers) that
  returns ``JSONResponse(<precomputed dict>)`` — routing, the thread hop and JSON
  encoding of 50 rows, but no database and no models.
* ``GET /page_raw``: an ``async def`` endpoint that returns pre-encoded bytes —
  the HTTP/ASGI path alone.

``paging.py`` mounts it in-process (``make_app``) and, for the Unix-socket floor,
runs this file under uvicorn configured like the local desk service:

    python benchmarks/bare_api.py --uds /tmp/x.sock --payload page.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

THREAD_LIMIT = 4  # as ServerSettings.thread_limit


def make_app(payload: dict[str, Any]) -> FastAPI:
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREAD_LIMIT
        yield

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/page")
    def page() -> JSONResponse:
        return JSONResponse(payload)

    @app.get("/page_raw")
    async def page_raw() -> Response:
        return Response(encoded, media_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--uds", required=True)
    parser.add_argument("--payload", type=Path, required=True)
    args = parser.parse_args()
    app = make_app(json.loads(args.payload.read_text()))
    # the same uvicorn configuration as linkdesk.server.runner.run_local_service
    config = uvicorn.Config(app, uds=args.uds, log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
