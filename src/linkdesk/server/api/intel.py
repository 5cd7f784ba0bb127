"""``/cases/{ref}/intel``: what the desk knows of a case's numbers, and checking them now.

``GET`` is a plain read. ``POST`` is an ``async`` route: the provider is awaited on the
event loop (a slow one holds no worker thread, of which a desk has few: SQLite wants
them few), and the database work — a short read before, one transaction after — runs in
worker threads. A provider that is down answers ``200`` with ``unavailable`` set.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from linkdesk.domain.number_intel import BindingIntelList
from linkdesk.domain.permissions import Permission
from linkdesk.server import intel as service
from linkdesk.server.agents import Caller
from linkdesk.server.api.common import CaseReader, SessionDep, json_answer, problems
from linkdesk.server.auth import require
from linkdesk.server.cases import case_id_of

router = APIRouter(tags=["intel"])
IntelChecker = Annotated[Caller, Depends(require(Permission.INTEL_CHECK))]


@router.get("/cases/{ref}/intel", response_model=BindingIntelList, responses=problems(403, 404, 422))
def get_intel(ref: str, session: SessionDep, caller: CaseReader) -> JSONResponse:
    """The last intel and risk of each of the case's numbers: its borrower's bindings,
    newest first, or the case's own number (``binding`` null). No provider is asked."""
    items = service.case_intel(session, case_id_of(ref))
    return json_answer(BindingIntelList(items=items))


@router.post("/cases/{ref}/intel", response_model=BindingIntelList, responses=problems(403, 404, 422))
async def post_intel(request: Request, ref: str, caller: IntelChecker) -> JSONResponse:
    """Check the case's numbers now (the bindings in use and the case's own), re-score
    them and answer as ``GET`` does. A check that cannot be made sets ``unavailable``
    on its number and keeps the last answer; a number found re-issued to someone else
    goes on the do-not-contact list; a change opens a risk alert."""
    state = request.app.state
    items = await service.check_case(
        state.session_factory, state.keyring, state.intel_provider, state.risk_policy, case_id_of(ref),
        actor=caller.name, actor_id=caller.id, clock=state.clock, timeout=state.settings.intel_timeout,
    )
    return json_answer(BindingIntelList(items=items))
