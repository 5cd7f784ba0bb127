"""``/borrowers/{borrower}``: privacy requests — read, export, correct, erase, legal holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import JSONResponse

from linkdesk.domain.permissions import Permission
from linkdesk.domain.privacy_requests import (
    BorrowerCorrection,
    BorrowerDetail,
    Erasure,
    ErasureRequest,
    LegalHold,
    LegalHoldCreate,
)
from linkdesk.server import borrower_export
from linkdesk.server import privacy_requests as store
from linkdesk.server.agents import Caller
from linkdesk.server.api.common import (
    CaseReader,
    IdempotencyKey,
    SessionDep,
    expected_version,
    idempotent_create,
    json_answer,
    now,
    problems,
)
from linkdesk.server.auth import require

router = APIRouter(tags=["borrowers"])
Exporter = Annotated[Caller, Depends(require(Permission.PRIVACY_EXPORT))]
Corrector = Annotated[Caller, Depends(require(Permission.PRIVACY_CORRECT))]
Eraser = Annotated[Caller, Depends(require(Permission.PRIVACY_DELETE))]
HoldKeeper = Annotated[Caller, Depends(require(Permission.LEGAL_HOLD))]


def _detail(session: SessionDep, borrower: str) -> JSONResponse:
    borrower = store.detail(session, store.borrower_id_of(borrower))
    return json_answer(borrower, headers={"ETag": f'"{borrower.version}"'})


@router.get("/borrowers/{borrower}", response_model=BorrowerDetail, responses=problems(403, 404))
def get_borrower(borrower: str, session: SessionDep, caller: CaseReader) -> JSONResponse:
    """The borrower masked, with bindings, legal holds and case references; ETag = version."""
    return _detail(session, borrower)


@router.patch("/borrowers/{borrower}", response_model=BorrowerDetail, responses=problems(403, 404, 409, 410, 412, 422, 428))
def patch_borrower(
    request: Request,
    borrower: str,
    data: BorrowerCorrection,
    session: SessionDep,
    caller: Corrector,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> JSONResponse:
    """Correct the name and/or ID number (GB 11643 check digit); needs If-Match. The
    before/after goes on each of the borrower's cases (masked; full values sealed under
    the borrower's key) and the audit chain (``correction``)."""
    version = expected_version(if_match, "borrower", 2)
    borrower = store.correct(session, request.app.state.keyring, caller, store.borrower_id_of(borrower), data,
                             version, now(request))
    session.commit()
    return json_answer(borrower, headers={"ETag": f'"{borrower.version}"'})


@router.get("/borrowers/{borrower}/export", responses=problems(403, 404, 409, 410))
def get_export(request: Request, borrower: str, session: SessionDep, caller: Exporter) -> JSONResponse:
    """Everything the desk holds about the borrower, decrypted, for the data subject
    (``schema``, ``generated_at``, identity, bindings, cases with timelines, intel, risk,
    contact log, masked calls, do-not-contact, holds). Recorded (``export``) before answered."""
    payload = borrower_export.export(session, request.app.state.keyring, caller, store.borrower_id_of(borrower),
                                     now(request))
    session.commit()
    return JSONResponse(payload, headers={"Cache-Control": "no-store"})


@router.post("/borrowers/{borrower}/erase", response_model=Erasure, responses=problems(403, 404, 409, 410, 422))
def post_erase(request: Request, borrower: str, data: ErasureRequest, session: SessionDep, caller: Eraser) -> JSONResponse:
    """Erase the borrower by crypto-shredding: ``409 legal-hold`` (naming the hold's reason)
    while a hold is active; a second erasure is ``410 erased``."""
    erasure = store.erase(session, request.app.state.keyring, caller, store.borrower_id_of(borrower), data, now(request))
    session.commit()
    return json_answer(erasure)


@router.get("/borrowers/{borrower}/holds", response_model=list[LegalHold], responses=problems(403, 404))
def get_holds(borrower: str, session: SessionDep, caller: CaseReader) -> JSONResponse:
    borrower_id = store.borrower_id_of(borrower)
    store.detail(session, borrower_id)  # 404 for no such borrower
    return JSONResponse([h.model_dump(mode="json") for h in store.holds(session, borrower_id)])


@router.post("/borrowers/{borrower}/holds", status_code=201, response_model=LegalHold,
             responses=problems(403, 404, 422))
def post_hold(
    request: Request,
    borrower: str,
    data: LegalHoldCreate,
    session: SessionDep,
    caller: HoldKeeper,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Place a legal hold (reason ≥ 4 characters, optionally the case it comes from):
    erasure is refused until it is lifted. Recorded (``legal_hold_placed``)."""
    borrower_id = store.borrower_id_of(borrower)

    def create(at):  # type: ignore[no-untyped-def]
        return store.place_hold(session, caller, borrower_id, data, at).model_dump(mode="json")

    return idempotent_create(request, session, caller, idempotency_key, data, create, lambda _p: {})


@router.delete("/borrowers/{borrower}/holds/{hold_id}", status_code=204, response_class=Response,
               responses=problems(403, 404, 409, 422))
def delete_hold(
    request: Request,
    borrower: str,
    hold_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    session: SessionDep,
    caller: HoldKeeper,
) -> Response:
    """Lift a legal hold. Recorded (``legal_hold_lifted``)."""
    store.lift_hold(session, caller, store.borrower_id_of(borrower), hold_id, now(request))
    session.commit()
    return Response(status_code=204)
