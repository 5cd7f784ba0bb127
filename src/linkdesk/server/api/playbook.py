"""``/cases/{ref}/playbook``: the recycled-number complaint playbook, one step at a time.

``POST …/next`` is an ``async`` route: the ``confirm`` step awaits the intel provider
on the event loop with no transaction open; the database work runs in worker threads.
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from linkdesk.domain.permissions import Permission
from linkdesk.domain.playbook import Language, PlaybookRun, PlaybookState
from linkdesk.server import playbook as service
from linkdesk.server.agents import Caller
from linkdesk.server.api.common import CaseEditor, CaseReader, json_answer, problems
from linkdesk.server.auth import require
from linkdesk.server.cases import case_id_of

router = APIRouter(tags=["playbook"])
IntelChecker = Annotated[Caller, Depends(require(Permission.INTEL_CHECK))]


@router.get("/cases/{ref}/playbook", response_model=PlaybookState, responses=problems(403, 404, 409, 422))
async def get_playbook(request: Request, ref: str, caller: CaseReader, language: Language = "en") -> JSONResponse:
    """The playbook's steps with their status and outcome, the next step, and (when the
    reply is next) the reply it would post in ``language``. ``409`` on a case that is
    not ``recycled_number``."""
    state = request.app.state
    case_id = case_id_of(ref)

    def read() -> PlaybookState:
        with state.session_factory() as session:
            return service.read_state(session, case_id, caller, state.clock(), language)

    return json_answer(await anyio.to_thread.run_sync(read))


@router.post("/cases/{ref}/playbook/next", response_model=PlaybookState, responses=problems(403, 404, 409, 422))
async def post_playbook_next(
    request: Request,
    ref: str,
    caller: CaseEditor,
    _checker: IntelChecker,
    run: PlaybookRun | None = None,
) -> JSONResponse:
    """Run exactly one step — the next one — and answer the new state. Repeating it is
    safe: a finished or stopped playbook changes nothing, and a step runs once whoever
    presses. ``reply`` (reply step only) posts the agent's edited text instead of the
    template's. ``409`` on a closed case or one that is not ``recycled_number``."""
    state = request.app.state
    answer = await service.run_next(
        state.session_factory, state.keyring, state.intel_provider, state.risk_policy, case_id_of(ref),
        caller, run or PlaybookRun(), clock=state.clock, timeout=state.settings.intel_timeout,
    )
    return json_answer(answer)
