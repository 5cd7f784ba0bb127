"""Agents (the people working the desk) and their roles."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    RISK_ANALYST = "risk_analyst"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


class AgentRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    display_name: str


class Agent(AgentRef):
    role: Role
    active: bool = True


LOCAL_AGENT = "local"
