"""``/audit``: the chain, newest first, filtered; and its verification."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from linkdesk.domain.audit import AuditAction, AuditRecord, ChainState
from linkdesk.domain.paging import Page
from linkdesk.server import audit
from linkdesk.server.api.common import AuditReader, SessionDep, json_answer, now, problems
from linkdesk.server.errors import ValidationProblem

router = APIRouter(tags=["audit"])

Instant = Annotated[
    str | None,
    Query(
        max_length=40,
        pattern=r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$",
        description="ISO 8601 date or instant; without a zone it is UTC",
    ),
]


def _instant(name: str, text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationProblem.field(name, "not an ISO 8601 date or instant") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@router.get("/audit", response_model=Page[AuditRecord], responses=problems(400, 403, 422))
def get_audit(
    session: SessionDep,
    caller: AuditReader,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: AuditAction | None = None,
    case: Annotated[str | None, Query(max_length=32)] = None,
    since: Instant = None,
    until: Instant = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> JSONResponse:
    page = audit.list_records(
        session, actor=actor or None, action=action, case=case or None,
        since=_instant("since", since), until=_instant("until", until),
        cursor=cursor, limit=limit,
    )
    return json_answer(page)


@router.post("/audit/verify", response_model=ChainState, responses=problems(403))
def post_audit_verify(request: Request, session: SessionDep, caller: AuditReader) -> JSONResponse:
    """Walk the whole chain (and the desk's checkpoints, where configured) now."""
    from linkdesk.server import chain

    state = chain.verify(session, checkpoint_dir=request.app.state.settings.checkpoint_dir, at=now(request))
    return json_answer(state)
