"""``/audit``: the chain, newest first, filtered; and its verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from linkdesk.domain.audit import AuditAction, AuditRecord, ChainState
from linkdesk.domain.paging import Page
from linkdesk.server import audit
from linkdesk.server.api.common import AuditReader, SessionDep, json_answer, now, problems

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=Page[AuditRecord], responses=problems(400, 403, 422))
def get_audit(
    session: SessionDep,
    caller: AuditReader,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: AuditAction | None = None,
    case: Annotated[str | None, Query(max_length=32)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> JSONResponse:
    page = audit.list_records(
        session, actor=actor or None, action=action, case=case or None, since=since, until=until,
        cursor=cursor, limit=limit,
    )
    return json_answer(page)


@router.post("/audit/verify", response_model=ChainState, responses=problems(403))
def post_audit_verify(request: Request, session: SessionDep, caller: AuditReader) -> JSONResponse:
    """Walk the whole chain (and the desk's checkpoints, where configured) now."""
    from linkdesk.server import chain

    state = chain.verify(session, checkpoint_dir=request.app.state.settings.checkpoint_dir, at=now(request))
    return json_answer(state)
