"""Every error as RFC 9457 ``application/problem+json`` (see docs/api.md).

Answers never echo the input that was refused: a rejected phone number or name must
not come back in an error, nor reach the log.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from linkdesk.domain import problems as p
from linkdesk.server.errors import DeskProblem

log = logging.getLogger("linkdesk.server")

_BY_STATUS = {
    400: (p.problem_type("bad-request"), "Bad request"),
    401: (p.UNAUTHORIZED, "Unauthorized"),
    403: (p.FORBIDDEN, "Forbidden"),
    404: (p.NOT_FOUND, "Not found"),
    405: (p.problem_type("method-not-allowed"), "Method not allowed"),
    422: (p.VALIDATION, "Validation failed"),
}


def problem_response(
    status: int,
    type_: str,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=p.PROBLEM_MEDIA_TYPE, headers=headers)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _desk_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DeskProblem)
    headers = dict(exc.headers)
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    errors = [e.model_dump() for e in exc.errors] if exc.errors is not None else None
    return problem_response(
        exc.status, exc.type, exc.title, exc.detail, errors, headers=headers, **exc.extra
    )


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_of(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in exc.errors()]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(422, p.VALIDATION, "Validation failed", f"invalid: {fields}", errors)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    type_, title = _BY_STATUS.get(exc.status_code, ("about:blank", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem_response(exc.status_code, type_, title, detail, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method the path answers to. Starlette names only the first route whose
    path matches (``GET`` for ``/cases``, although ``POST`` is there too)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _child = route.matches({**request.scope, "method": "GET"})
        route_methods = getattr(route, "methods", None)
        if match is not Match.NONE and route_methods:
            methods.update(route_methods)
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    app.add_exception_handler(DeskProblem, _desk_problem)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_middleware(UnexpectedErrors)


class UnexpectedErrors:
    """Turns an unexpected exception into a 500 problem and logs where it happened.

    Starlette's own ``ServerErrorMiddleware`` re-raises after answering; this one
    answers and stops. The log holds the exception type and the stack frames only: an
    exception's message can carry SQL parameters, i.e. personal data.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            frames = "; ".join(
                f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}"
                for f in traceback.extract_tb(exc.__traceback__)
            )
            log.error("unexpected %s in %s %s at %s", type(exc).__name__, scope.get("method"),
                      _route_of(scope), frames)
            if started:
                raise
            response = problem_response(500, p.INTERNAL, "Internal error",
                                        "the desk failed; the error was logged")
            await response(scope, receive, send)


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "?"
