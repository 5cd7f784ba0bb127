"""``/desk/settings``: the desk's policy, read by everyone, changed by admins (recorded)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from linkdesk.domain.desk_policy import DeskPolicy, DeskPolicyPatch
from linkdesk.server import desk_policy
from linkdesk.server.api.common import CallerDep, DeskAdmin, SessionDep, json_answer, now, problems

router = APIRouter(tags=["desk"])


@router.get("/desk/settings", response_model=DeskPolicy, responses=problems())
def get_desk_settings(session: SessionDep, caller: CallerDep) -> JSONResponse:
    return json_answer(desk_policy.load(session))


@router.patch("/desk/settings", response_model=DeskPolicy, responses=problems(403, 422))
def patch_desk_settings(
    request: Request, patch: DeskPolicyPatch, session: SessionDep, caller: DeskAdmin
) -> JSONResponse:
    policy = desk_policy.change(session, patch, actor=caller.name, at=now(request))
    session.commit()
    return json_answer(policy)
