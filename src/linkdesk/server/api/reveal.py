"""``/cases/{ref}/reveal``: a full value, once, with a reason, recorded."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from linkdesk.domain.reveal import Revealed, RevealRequest
from linkdesk.server import desk_policy
from linkdesk.server.api.common import CallerDep, SessionDep, json_answer, now, problems
from linkdesk.server.cases import case_id_of
from linkdesk.server.reveal import reveal

router = APIRouter(tags=["reveal"])


@router.post("/cases/{ref}/reveal", response_model=Revealed, responses=problems(403, 404, 409, 422, 429))
def post_reveal(
    request: Request, ref: str, data: RevealRequest, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    """Reveal the case's number, one of its borrower's numbers (``binding``), the
    borrower's name or ID number. Needs the role's ``reveal.<field>`` permission, an open
    case, a subject linked to it, a reason code and free text; limited per agent per
    hour. The reveal is in the audit chain before the value is answered."""
    case_id = case_id_of(ref)
    revealed = reveal(
        session, request.app.state.keyring, caller, case_id, data, desk_policy.load(session), now(request)
    )
    return json_answer(revealed, headers={"Cache-Control": "no-store"})
