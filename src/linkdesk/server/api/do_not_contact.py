"""``/do-not-contact`` (the contact check is in :mod:`linkdesk.server.api.contact`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from linkdesk.domain.contact import (
    DoNotContact,
    DoNotContactCreate,
    DoNotContactReason,
)
from linkdesk.domain.paging import Page
from linkdesk.domain.permissions import Permission
from linkdesk.server import do_not_contact as store
from linkdesk.server.agents import Caller
from linkdesk.server.api.common import (
    CaseEditor,
    CaseReader,
    IdempotencyKey,
    SessionDep,
    idempotent_create,
    json_answer,
    now,
    problems,
)
from linkdesk.server.auth import require

router = APIRouter(tags=["do-not-contact"])
ListKeeper = Annotated[Caller, Depends(require(Permission.DNC_DELETE))]


@router.get("/do-not-contact", response_model=Page[DoNotContact], responses=problems(400, 403, 422))
def get_do_not_contact(
    session: SessionDep,
    caller: CaseReader,
    reason: DoNotContactReason | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> JSONResponse:
    """The do-not-contact list, newest first; numbers masked."""
    return json_answer(store.list_entries(session, reason=reason, cursor=cursor, limit=limit))


@router.post("/do-not-contact", status_code=201, response_model=DoNotContact,
             responses=problems(403, 404, 409, 422))
def post_do_not_contact(
    request: Request,
    data: DoNotContactCreate,
    session: SessionDep,
    caller: CaseEditor,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Put the case's number (or its borrower's binding ``P-12``) on the list; recorded
    (``dnc_added``). The same number for the same reason is a ``409``."""
    keyring = request.app.state.keyring

    def create(at):  # type: ignore[no-untyped-def]
        return store.create(session, keyring, caller, data, at).model_dump(mode="json")

    return idempotent_create(request, session, caller, idempotency_key, data, create, lambda _p: {})


@router.delete("/do-not-contact/{entry_id}", status_code=204, response_class=Response,
               responses=problems(403, 404, 422))
def delete_do_not_contact(
    request: Request,
    entry_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    session: SessionDep,
    caller: ListKeeper,
) -> Response:
    """Take a number off the list (supervisor, compliance, admin); recorded (``dnc_removed``)."""
    store.remove(session, caller, entry_id, now(request))
    session.commit()
    return Response(status_code=204)
