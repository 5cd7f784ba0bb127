"""``/me``, ``/sessions`` (sign-in, recorded) and ``/agents`` (administered, recorded)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from linkdesk.domain.agents import Agent, AgentCreate, AgentPatch, AgentWithToken
from linkdesk.domain.audit import AuditAction
from linkdesk.domain.permissions import Me, Permission, me
from linkdesk.domain.text import clean_line
from linkdesk.server import agents as store
from linkdesk.server import audit
from linkdesk.server.api.common import (
    AgentManager,
    AgentReader,
    CallerDep,
    SessionDep,
    json_answer,
    now,
    problems,
)
from linkdesk.server.auth import check

router = APIRouter(tags=["agents"])


class AgentList(BaseModel):
    items: list[Agent]


class SessionStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = "api"
    """What signs in, e.g. ``console 0.3 over ssh``: recorded with the sign-in."""


@router.get("/me", response_model=Me, responses=problems())
def get_me(caller: CallerDep) -> JSONResponse:
    return json_answer(me(caller.agent))


@router.post("/sessions", response_model=Me, responses=problems(422))
def post_session(
    request: Request, session: SessionDep, caller: CallerDep, data: SessionStart | None = None
) -> JSONResponse:
    """Sign in: records a ``login`` in the audit chain and answers who you are and what
    your role lets you do. The console calls it once when it opens a desk."""
    client = clean_line((data or SessionStart()).client) or "api"
    audit.append(session, at=now(request), actor=caller.name, action=AuditAction.LOGIN,
                 target=f"agent:{caller.name}", detail={"client": client})
    session.commit()
    return json_answer(me(caller.agent))


@router.get("/agents", response_model=AgentList, responses=problems(403, 422))
def get_agents(
    session: SessionDep,
    caller: AgentReader,
    include_disabled: Annotated[bool, Query(description="Also disabled agents (agents.manage)")] = False,
) -> JSONResponse:
    if include_disabled:
        check(caller, Permission.AGENTS_MANAGE)
    return json_answer(AgentList(items=store.list_agents(session, include_disabled=include_disabled)))


@router.post("/agents", status_code=201, response_model=AgentWithToken, responses=problems(403, 409, 422))
def post_agent(request: Request, data: AgentCreate, session: SessionDep, caller: AgentManager) -> JSONResponse:
    """Add an agent; the answer holds their token, which is never shown again."""
    agent, token = store.add_agent(
        session, name=data.name, display_name=data.display_name or data.name, role=data.role,
        actor=caller.name, at=now(request),
    )
    session.commit()
    return json_answer(AgentWithToken(agent=agent, token=token), status=201,
                       headers={"Cache-Control": "no-store"})


@router.patch("/agents/{name}", response_model=Agent, responses=problems(403, 404, 422))
def patch_agent(
    request: Request, name: str, patch: AgentPatch, session: SessionDep, caller: AgentManager
) -> JSONResponse:
    """Change an agent's role or display name, or disable / enable them (a disabled
    agent's token stops working at once)."""
    agent = store.change_agent(session, name, patch, actor=caller.name, at=now(request))
    session.commit()
    return json_answer(agent)


@router.post("/agents/{name}/token", response_model=AgentWithToken, responses=problems(403, 404))
def post_agent_token(request: Request, name: str, session: SessionDep, caller: AgentManager) -> JSONResponse:
    """A new token for ``name``; the old one stops working."""
    agent, token = store.new_token(session, name, actor=caller.name, at=now(request))
    session.commit()
    return json_answer(AgentWithToken(agent=agent, token=token), headers={"Cache-Control": "no-store"})
