"""Agents: the caller, tokens, lookups."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkdesk.domain.agents import LOCAL_AGENT, Agent, Role
from linkdesk.server.tables import AgentRow


@dataclass(frozen=True, slots=True)
class Caller:
    """The agent a request runs as."""

    id: int
    agent: Agent

    @property
    def name(self) -> str:
        return self.agent.name


def to_agent(row: AgentRow) -> Agent:
    return Agent(name=row.name, display_name=row.display_name, role=Role(row.role), active=row.active)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, name: str, display_name: str, role: Role | str) -> str:
    """Create the agent ``name`` (or give an existing one a new token) and return the token.

    The token is shown once: only its SHA-256 is stored. Commits.
    """
    token = "ld_" + secrets.token_urlsafe(32)
    row = session.scalar(select(AgentRow).where(AgentRow.name == name))
    if row is None:
        row = AgentRow(
            name=name,
            display_name=display_name,
            role=str(Role(role)),
            active=True,
            created_at=datetime.now(UTC),
        )
        session.add(row)
    else:
        row.display_name = display_name
        row.role = str(Role(role))
        row.active = True
    row.token_hash = hash_token(token)
    session.commit()
    return token


def ensure_local_agent(session: Session) -> AgentRow:
    row = session.scalar(select(AgentRow).where(AgentRow.name == LOCAL_AGENT))
    if row is None:
        row = AgentRow(
            name=LOCAL_AGENT,
            display_name="Local agent",
            role=str(Role.ADMIN),
            active=True,
            created_at=datetime.now(UTC),
        )
        session.add(row)
        session.commit()
    return row


def caller_for_token(session: Session, token: str) -> Caller | None:
    row = session.scalar(
        select(AgentRow).where(AgentRow.token_hash == hash_token(token), AgentRow.active.is_(True))
    )
    return Caller(row.id, to_agent(row)) if row else None


def local_caller(session: Session) -> Caller:
    row = ensure_local_agent(session)
    return Caller(row.id, to_agent(row))


def agent_id_by_name(session: Session, name: str) -> int | None:
    return session.scalar(
        select(AgentRow.id).where(AgentRow.name == name, AgentRow.active.is_(True))
    )


def list_agents(session: Session) -> list[Agent]:
    rows = session.scalars(select(AgentRow).where(AgentRow.active.is_(True)).order_by(AgentRow.name))
    return [to_agent(row) for row in rows]
