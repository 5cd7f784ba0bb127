"""Agents (the people working the desk) and their roles."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


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


AgentName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$"),
]
"""Login names: lower-case letters, digits, ``.``, ``_``, ``-``; 2–64 characters."""
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AgentName
    display_name: DisplayName | None = None
    role: Role = Role.AGENT


class AgentPatch(BaseModel):
    """Change an agent: any of role, display name, and whether they may sign in."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    display_name: DisplayName | None = None
    active: bool | None = None


class AgentWithToken(BaseModel):
    """A new agent or a new token: the token is shown this once and stored hashed."""

    agent: Agent
    token: str
