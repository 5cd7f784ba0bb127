"""Contact compliance: the contact check, the contact log and masked calls.

The masked-call routes are ``async``: the provider is awaited on the event loop, and the
database work before and after runs in worker threads (as ``POST /cases/{ref}/intel``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from linkdesk.calling.base import CallingError, MaskedCallProvider, SubscriptionGone
from linkdesk.domain.contact import (
    ContactCheck,
    ContactCheckRequest,
    ContactCreate,
    ContactEntry,
    MaskedCall,
    MaskedCallCreate,
    MaskedCallList,
)
from linkdesk.domain.contact_rules import Attempt
from linkdesk.domain.paging import Page
from linkdesk.domain.permissions import Permission
from linkdesk.domain.refs import borrower_ref
from linkdesk.server import contact_log, masked_calls
from linkdesk.server.agents import Caller
from linkdesk.server.api.common import (
    CaseReader,
    IdempotencyKey,
    SessionDep,
    idempotent_create,
    json_answer,
    now,
    problems,
)
from linkdesk.server.auth import require
from linkdesk.server.cases import case_id_of
from linkdesk.server.errors import NotFound
from linkdesk.server.privacy_requests import borrower_id_of
from linkdesk.server.tables import BorrowerRow

router = APIRouter(tags=["contact"])
ContactLogger = Annotated[Caller, Depends(require(Permission.CONTACT_LOG))]
Caller_ = Annotated[Caller, Depends(require(Permission.CONTACT_CALL))]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=1000)]
T = TypeVar("T")


@router.post("/cases/{ref}/contact-check", response_model=ContactCheck, responses=problems(403, 404, 422))
def post_contact_check(
    request: Request,
    ref: str,
    session: SessionDep,
    caller: CaseReader,
    data: ContactCheckRequest | None = None,
) -> JSONResponse:
    """May the case's number (or ``binding``'s) be contacted now, on ``channel``, by
    ``party``? ``allowed`` false names the ``rule`` that refuses (``not_debtor``,
    ``do_not_contact``, ``stop_contact``, ``binding_inactive``, ``no_number``,
    ``quiet_hours``, ``daily_call_limit``), says why and, for the time rules, when
    contact is allowed again (``allowed_from``). Every contact action asks this first."""
    data = data or ContactCheckRequest()
    attempt = Attempt(channel=data.channel, party=data.party, direction=data.direction)
    return json_answer(contact_log.check(
        session, request.app.state.keyring, case_id_of(ref), data.binding, attempt, now(request)
    ))


@router.post("/cases/{ref}/contacts", status_code=201, response_model=ContactEntry,
             responses=problems(403, 404, 409, 422))
def post_contact(
    request: Request,
    ref: str,
    data: ContactCreate,
    session: SessionDep,
    caller: ContactLogger,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Log a contact with the case's borrower, at the desk's time, after the full
    compliance check. A refused contact is ``409 contact-refused`` (``rule``,
    ``allowed_from``) and only leaves a ``contact`` event naming the rule."""
    keyring = request.app.state.keyring
    case_id = case_id_of(ref)
    return idempotent_create(
        request, session, caller, idempotency_key, data,
        lambda at: contact_log.log_contact(session, keyring, caller, case_id, data, at), lambda _p: {},
    )


@router.get("/cases/{ref}/contacts", response_model=Page[ContactEntry], responses=problems(403, 404, 422))
def get_case_contacts(
    ref: str, session: SessionDep, caller: CaseReader, limit: Limit = 50, cursor: Cursor = None
) -> JSONResponse:
    """The contacts logged under the case, newest first."""
    return json_answer(contact_log.list_contacts(session, case_id=case_id_of(ref), cursor=cursor, limit=limit))


@router.get("/borrowers/{borrower}/contacts", response_model=Page[ContactEntry], responses=problems(403, 404, 422))
def get_borrower_contacts(
    borrower: str, session: SessionDep, caller: CaseReader, limit: Limit = 50, cursor: Cursor = None
) -> JSONResponse:
    """Every contact logged with the borrower (``B-000042``), under any case, newest first."""
    borrower_id = borrower_id_of(borrower)
    if session.get(BorrowerRow, borrower_id) is None:
        raise NotFound(f"no borrower {borrower_ref(borrower_id)}")
    return json_answer(contact_log.list_contacts(session, borrower_id=borrower_id, cursor=cursor, limit=limit))


def calling_provider(request: Request) -> MaskedCallProvider:
    """The desk's masked-calling provider (``LINKDESK_CALLING_PROVIDER``), built once."""
    state = request.app.state
    provider = getattr(state, "calling_provider", None)
    if provider is None:
        from linkdesk.calling.registry import build_calling_provider

        provider = state.calling_provider = build_calling_provider(clock=state.clock)
    return provider  # type: ignore[no-any-return]


async def _in_session(request: Request, work: Callable[[Any], T]) -> T:
    def run() -> T:
        with request.app.state.session_factory() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


@router.post("/cases/{ref}/masked-calls", status_code=201, response_model=MaskedCall,
             responses=problems(403, 404, 409, 422, 502))
async def post_masked_call(request: Request, ref: str, data: MaskedCallCreate, caller: Caller_) -> JSONResponse:
    """Ask for a privacy number X connecting ``agent_line`` to the borrower's number
    (``binding``, default the case's) for ``expires_in`` minutes (default 30, at most
    24 h). The compliance check runs first (a call is contact): a refusal is ``409
    contact-refused``. Recorded (``masked_call``) with a timeline event; the borrower's
    number never leaves the desk but to the provider."""
    state = request.app.state
    case_id = case_id_of(ref)
    at = state.clock()
    prepared = await _in_session(
        request, lambda s: masked_calls.prepare(s, state.keyring, caller, case_id, data, at)
    )
    provider = calling_provider(request)
    try:
        bound = await provider.bind_axb(prepared.agent_line, prepared.borrower, expires_at=prepared.expires_at)
    except CallingError as exc:
        raise masked_calls.CallingFailed.of(exc) from None
    try:
        call = await _in_session(
            request, lambda s: masked_calls.store(s, state.keyring, caller, prepared, bound, provider.name, at)
        )
    except BaseException:
        try:  # the desk did not keep it: do not leave a live number behind
            await provider.unbind(bound.subscription_id, bound.secret_no)
        except CallingError:
            pass
        raise
    return json_answer(call, status=201, headers={"Cache-Control": "no-store"})


@router.get("/masked-calls", response_model=MaskedCallList, responses=problems(403, 404, 422))
def get_masked_calls(
    request: Request,
    session: SessionDep,
    caller: Caller_,
    case: Annotated[str | None, Query(max_length=32)] = None,
) -> JSONResponse:
    """The masked calls still connecting (not ended, not expired), newest first;
    ``case`` narrows to one case."""
    case_id = case_id_of(case) if case else None
    return json_answer(MaskedCallList(items=masked_calls.list_active(session, now(request), case_id=case_id)))


@router.delete("/masked-calls/{call_id}", status_code=204, response_class=Response,
               responses=problems(403, 404, 409, 422, 502))
async def delete_masked_call(
    request: Request, call_id: Annotated[int, Path(ge=1, le=2_147_483_647)], caller: Caller_
) -> Response:
    """End a masked call before its expiry (the provider's ``UnbindSubscription``);
    ``409`` when it has ended or expired already. Recorded (``masked_call``, ``unbind``)."""
    state = request.app.state
    at = state.clock()
    subscription_id, secret_no = await _in_session(request, lambda s: masked_calls.to_end(s, call_id, at))
    gone = False
    try:
        await calling_provider(request).unbind(subscription_id, secret_no)
    except SubscriptionGone:
        gone = True
    except CallingError as exc:
        raise masked_calls.CallingFailed.of(exc) from None
    await _in_session(request, lambda s: masked_calls.mark_ended(s, caller, call_id, at, gone=gone))
    return Response(status_code=204)
