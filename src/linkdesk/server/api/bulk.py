"""``POST /cases/bulk`` and ``POST /bulk-changes/{id}/undo``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from linkdesk.domain.bulk import BulkChange, BulkRequest, UndoResult
from linkdesk.server import idempotency
from linkdesk.server.api.common import (
    CaseEditor,
    IdempotencyKey,
    SessionDep,
    json_answer,
    now,
    problems,
)
from linkdesk.server.bulk import apply_bulk, undo_bulk
from linkdesk.server.errors import ValidationProblem

router = APIRouter(tags=["bulk"])


@router.post("/cases/bulk", response_model=BulkChange, responses=problems(403, 409, 422))
def post_bulk(
    request: Request,
    data: BulkRequest,
    session: SessionDep,
    caller: CaseEditor,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """One action on 1-500 cases, in one transaction: each case is ``changed``,
    ``unchanged`` or ``refused`` (with the problem and reason; the others still change).
    The answer's ``id`` names the bulk change for undo (null when nothing changed).
    Accepts ``Idempotency-Key``: a repeat answers the first result."""
    at = now(request)
    if idempotency_key is not None and not idempotency_key.strip():
        raise ValidationProblem.field("Idempotency-Key", "must not be empty")
    method_path = f"{request.method} {request.url.path}"
    digest = idempotency.request_hash(method_path, data.model_dump(mode="json"))
    if idempotency_key:
        stored = idempotency.lookup(session, caller.id, idempotency_key, digest, at)
        if stored is not None:
            return _replay(stored.response_json)
    payload = apply_bulk(session, caller, data, at).model_dump(mode="json")
    if idempotency_key:
        idempotency.remember(session, caller.id, idempotency_key, method_path, digest, 200, payload, at)
    try:
        session.commit()
    except IntegrityError:  # the same key raced in: answer the winner's result
        session.rollback()
        stored = idempotency.lookup(session, caller.id, idempotency_key, digest, at) if idempotency_key else None
        if stored is None:
            raise
        return _replay(stored.response_json)
    return JSONResponse(payload)


def _replay(payload: dict) -> JSONResponse:  # type: ignore[type-arg]
    return JSONResponse(payload, headers={"Idempotency-Replayed": "true"})


@router.post("/bulk-changes/{bulk_id}/undo", response_model=UndoResult, responses=problems(403, 404, 409, 422))
def post_undo(
    request: Request,
    bulk_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    caller: CaseEditor,
) -> JSONResponse:
    """Undo the caller's own last bulk change: cases still at the version it left them
    are restored (``restored``), the others are ``skipped`` (changed since). A second
    undo, an older bulk change or another agent's is a ``409 conflict``."""
    result = undo_bulk(session, caller, bulk_id, now(request))
    session.commit()
    return json_answer(result)
