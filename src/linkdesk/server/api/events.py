"""``/cases/{ref}/events``: the timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from linkdesk.domain.cases import CaseEvent, EventCreate
from linkdesk.domain.paging import Page
from linkdesk.server import events as store
from linkdesk.server.api.common import (
    CaseReader,
    Commenter,
    IdempotencyKey,
    SessionDep,
    idempotent_create,
    json_answer,
    problems,
)
from linkdesk.server.cases import case_id_of

router = APIRouter(tags=["events"])


@router.get("/cases/{ref}/events", response_model=Page[CaseEvent], responses=problems(400, 403, 404, 422))
def get_events(
    ref: str,
    session: SessionDep,
    caller: CaseReader,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> JSONResponse:
    return json_answer(store.list_events(session, case_id_of(ref), cursor=cursor, limit=limit))


@router.post("/cases/{ref}/events", status_code=201, response_model=CaseEvent, responses=problems(403, 404, 422))
def post_event(
    request: Request,
    ref: str,
    data: EventCreate,
    session: SessionDep,
    caller: Commenter,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    case_id = case_id_of(ref)

    def create(at):  # type: ignore[no-untyped-def]
        return store.add_event(session, caller, case_id, data, at).model_dump(mode="json")

    return idempotent_create(request, session, caller, idempotency_key, data, create, lambda _p: {})
