"""``/cases/{ref}/rebinds``, ``/rebinds/{id}/…`` and ``/sms-outbox``.

Sending a code and the three-element check are ``async`` routes: the SMS provider and
the intel provider are awaited on the event loop, the database work (a short
transaction before, one after) runs in worker threads. Everything else is a plain
sync route with one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete
from sqlalchemy.orm import Session

from linkdesk.domain.intel import IntelReport, IntelUnavailable
from linkdesk.domain.paging import Page
from linkdesk.domain.permissions import Permission
from linkdesk.domain.rebind import (
    AGENT_FACTORS,
    CODE_FACTORS,
    CodeRequest,
    FactorCreate,
    FactorKind,
    OutboxMessage,
    Rebind,
    RebindCancel,
    RebindStart,
)
from linkdesk.server import intel as intel_service
from linkdesk.server import rebind as store
from linkdesk.server import rebind_factors as factors
from linkdesk.server.agents import Caller
from linkdesk.server.api.common import (
    IdempotencyKey,
    SessionDep,
    idempotent_create,
    json_answer,
    now,
    problems,
)
from linkdesk.server.auth import require
from linkdesk.server.cases import case_id_of
from linkdesk.server.crypto import DecryptionFailed
from linkdesk.server.errors import Conflict
from linkdesk.server.sms_outbox import list_outbox
from linkdesk.server.tables import OneTimeCodeRow
from linkdesk.sms.base import SmsContext, SmsProvider, SmsUnavailable

router = APIRouter(tags=["rebinds"])
Starter = Annotated[Caller, Depends(require(Permission.REBIND_START))]
Approver = Annotated[Caller, Depends(require(Permission.REBIND_APPROVE))]
RebindId = Annotated[int, Path(ge=1, le=2_147_483_647)]
NO_STORE = {"Cache-Control": "no-store"}


def sms_provider(app: Any) -> SmsProvider:
    """The desk's SMS provider (``LINKDESK_SMS_PROVIDER``), built on first use; a test or
    an embedding may set ``app.state.sms_provider`` first."""
    provider = getattr(app.state, "sms_provider", None)
    if provider is None:
        from linkdesk.sms.registry import build_sms_provider

        provider = build_sms_provider(app.state.session_factory, app.state.keyring, clock=app.state.clock)
        app.state.sms_provider = provider
    return provider  # type: ignore[no-any-return]


def _answer(request: Request, session: Session, rebind_id: int, status: int = 200) -> JSONResponse:
    state = request.app.state
    model = store.to_model(session, state.risk_policy, store.get_row(session, rebind_id), now(request))
    return json_answer(model, status=status, headers=NO_STORE)


async def _in_thread(request: Request, work: Callable[[Session], Any]) -> Any:
    def run() -> Any:
        with request.app.state.session_factory() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


@router.post("/cases/{ref}/rebinds", status_code=201, response_model=Rebind, responses=problems(403, 404, 409, 422))
def post_rebind(
    request: Request, ref: str, data: RebindStart, session: SessionDep, caller: Starter,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Start a rebind of the case's borrower to a new number (normalised; refused when it
    is on the do-not-contact list; allowed, but only with a supervisor's approval, when
    another borrower holds it). Accepts ``Idempotency-Key``."""
    state = request.app.state

    def create(at):  # type: ignore[no-untyped-def]
        row = store.start(session, state.keyring, caller, case_id_of(ref), data.phone, at)
        return store.to_model(session, state.risk_policy, row, at).model_dump(mode="json")

    return idempotent_create(
        request, session, caller, idempotency_key, data, create,
        lambda payload: {"Location": f"/api/v1/rebinds/{payload.get('id')}"} | NO_STORE,
    )


@router.get("/rebinds/{rebind_id}", response_model=Rebind, responses=problems(403, 404, 422))
def get_rebind(request: Request, rebind_id: RebindId, session: SessionDep, caller: Starter) -> JSONResponse:
    """The rebind, its factors, its live codes (never the code) and the policy's decision."""
    return _answer(request, session, rebind_id)


@router.post("/rebinds/{rebind_id}/codes", response_model=Rebind, responses=problems(403, 404, 409, 422, 429))
async def post_code(request: Request, rebind_id: RebindId, data: CodeRequest, caller: Starter) -> JSONResponse:
    """Send a one-time code for ``otp_new`` (to the new number) or ``otp_old`` (to the
    old one): 6 digits, valid 5 minutes, 5 attempts; a new code for the same factor at
    most once a minute (``429`` with ``Retry-After``)."""
    state = request.app.state
    at = now(request)

    def issue(session: Session) -> factors.Outgoing:
        row = store.get_row(session, rebind_id)
        outgoing = factors.issue_code(session, state.keyring, row, data.factor, at)
        session.commit()
        return outgoing

    outgoing = await _in_thread(request, issue)
    code_id = outgoing.code_id
    context = SmsContext(borrower_id=outgoing.borrower_id, case_id=outgoing.case_id, rebind_id=rebind_id)
    try:
        await sms_provider(request.app).send(outgoing.e164, outgoing.text, context=context,
                                             params={"code": outgoing.code})
    except SmsUnavailable as exc:
        def forget(session: Session) -> None:  # never delivered: it must not block a resend
            session.execute(delete(OneTimeCodeRow).where(OneTimeCodeRow.id == code_id))
            session.commit()

        await _in_thread(request, forget)
        raise Conflict(f"the code could not be sent: {exc.provider}: {exc.reason}") from None
    finally:
        del outgoing  # the code's text lives no longer than the send
    return await _in_thread(request, lambda session: _answer(request, session, rebind_id))


@router.post("/rebinds/{rebind_id}/factors", response_model=Rebind, responses=problems(403, 404, 409, 422))
async def post_factor(request: Request, rebind_id: RebindId, data: FactorCreate, caller: Starter) -> JSONResponse:
    """Record one verification factor: ``otp_new``/``otp_old`` with the ``code`` the
    borrower read back (a wrong one is ``422`` naming the attempts left; after 5 the code
    is dead, ``409``); ``three_element`` asks the intel provider about the new number with
    the borrower's name and ID; ``id_document``, ``bank_card``, ``video`` with ``passed``
    and a ``note`` of at least 4 characters."""
    state = request.app.state
    at = now(request)
    if data.kind is FactorKind.THREE_ELEMENT:
        await _three_element(request, rebind_id, caller)
    else:
        def record(session: Session) -> None:
            row = store.get_row(session, rebind_id)
            if data.kind in CODE_FACTORS:
                factors.check_code(session, state.keyring, row, caller, data.kind, data.code, at)
            elif data.kind in AGENT_FACTORS:
                factors.record_agent_factor(session, row, caller, data.kind, data.passed, data.note, at)
            session.commit()

        await _in_thread(request, record)
    return await _in_thread(request, lambda session: _answer(request, session, rebind_id))


async def _three_element(request: Request, rebind_id: int, caller: Caller) -> None:
    state = request.app.state

    def prepare(session: Session) -> tuple[str, Any]:
        row = store.get_row(session, rebind_id)
        factors.verifying(row)
        identity = intel_service.identity_of(session, state.keyring, row.borrower_id)
        if identity is None:
            raise Conflict("the borrower's name or ID number is not on file: no three-element check can be made")
        try:
            return store.open_number(session, state.keyring, row.phone_enc, store.TABLE, row.id), identity
        except DecryptionFailed:
            raise Conflict("the new number cannot be decrypted") from None

    e164, identity = await _in_thread(request, prepare)
    provider = state.intel_provider
    try:
        with anyio.fail_after(state.settings.intel_timeout):
            report: IntelReport = await provider.check(e164, reference_date=now(request).date(), identity=identity)
    except IntelUnavailable as exc:
        raise Conflict(f"the three-element check could not be made: {exc.provider}: {exc.reason}") from None
    except TimeoutError:
        raise Conflict("the three-element check could not be made: the provider did not answer in time") from None
    finally:
        del e164, identity
    if report.identity is None or report.identity.value == "unknown":
        raise Conflict(f"{report.provider} could not answer the three-element check; try again or use another factor")

    def record(session: Session) -> None:
        row = store.get_row(session, rebind_id)
        factors.record_three_element(session, row, caller, report, now(request))
        session.commit()

    await _in_thread(request, record)


@router.post("/rebinds/{rebind_id}/complete", response_model=Rebind, responses=problems(403, 404, 409, 422))
def post_complete(request: Request, rebind_id: RebindId, session: SessionDep, caller: Starter) -> JSONResponse:
    """Complete it when the factors suffice: the old binding ends, the new one starts
    (``status: completed``); or, when policy wants a supervisor, ``awaiting_approval``
    (the case is tagged ``awaiting-approval``). Too few factors: ``409`` with ``missing``."""
    state = request.app.state
    store.complete(session, state.keyring, state.risk_policy, store.get_row(session, rebind_id), caller, now(request))
    session.commit()
    return _answer(request, session, rebind_id)


@router.post("/rebinds/{rebind_id}/approve", response_model=Rebind, responses=problems(403, 404, 409, 422))
def post_approve(request: Request, rebind_id: RebindId, session: SessionDep, caller: Approver) -> JSONResponse:
    """A supervisor other than the requester approves (four eyes) and the rebind completes;
    recorded as ``rebind_approved`` and ``rebind``. The requester gets ``403`` (``rule:
    four_eyes``)."""
    state = request.app.state
    store.approve(session, state.keyring, state.risk_policy, store.get_row(session, rebind_id), caller, now(request))
    session.commit()
    return _answer(request, session, rebind_id)


@router.post("/rebinds/{rebind_id}/cancel", response_model=Rebind, responses=problems(403, 404, 409, 422))
def post_cancel(
    request: Request, rebind_id: RebindId, session: SessionDep, caller: Starter, data: RebindCancel | None = None,
) -> JSONResponse:
    """Cancel an open rebind (nothing changes on the bindings)."""
    store.cancel(session, store.get_row(session, rebind_id), caller, data.reason if data else "", now(request))
    session.commit()
    return _answer(request, session, rebind_id)


@router.get("/sms-outbox", response_model=Page[OutboxMessage], responses=problems(400, 403, 404, 422))
def get_outbox(
    session: SessionDep,
    caller: Starter,
    case: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> JSONResponse:
    """The sandbox SMS provider's outbox, newest first: recipients masked, texts as sent
    (the one-time codes a tester reads back). A real provider never writes it."""
    page = list_outbox(session, case_id=case_id_of(case) if case else None, cursor=cursor, limit=limit)
    return json_answer(page, headers=NO_STORE)
