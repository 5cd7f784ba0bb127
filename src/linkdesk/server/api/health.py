"""``/health``: no auth; says whether the database answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from linkdesk import __version__
from linkdesk.server.api.common import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health")
def get_health(request: Request, session: SessionDep) -> JSONResponse:
    session.execute(text("SELECT 1"))
    return JSONResponse(
        {"status": "ok", "version": __version__, "database": session.get_bind().dialect.name}
    )
