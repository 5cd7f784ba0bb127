"""``/me`` and ``/agents``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from linkdesk.domain.agents import Agent
from linkdesk.server.agents import list_agents
from linkdesk.server.api.common import CallerDep, SessionDep, json_answer, problems

router = APIRouter(tags=["agents"])


class AgentList(BaseModel):
    items: list[Agent]


@router.get("/me", response_model=Agent, responses=problems())
def get_me(caller: CallerDep) -> JSONResponse:
    return json_answer(caller.agent)


@router.get("/agents", response_model=AgentList, responses=problems())
def get_agents(session: SessionDep, caller: CallerDep) -> JSONResponse:
    return json_answer(AgentList(items=list_agents(session)))
