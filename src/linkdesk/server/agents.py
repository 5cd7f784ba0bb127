"""Agents: the caller, tokens, and the changes an administrator makes — each recorded in
the audit chain in the same transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkdesk.domain.agents import LOCAL_AGENT, Agent, AgentPatch, Role
from linkdesk.domain.audit import AuditAction
from linkdesk.server import audit
from linkdesk.server.errors import Conflict, NotFound, ValidationProblem
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


def _new_token() -> tuple[str, str]:
    token = "ld_" + secrets.token_urlsafe(32)
    return token, hash_token(token)


def _target(name: str) -> str:
    return f"agent:{name}"


def _row(session: Session, name: str) -> AgentRow:
    row = session.scalar(select(AgentRow).where(AgentRow.name == name))
    if row is None:
        raise NotFound(f"no agent {name!r}")
    return row


def add_agent(
    session: Session, *, name: str, display_name: str, role: Role, actor: str, at: datetime
) -> tuple[Agent, str]:
    """Stage a new agent with a token; the token is returned once (only its hash is kept)."""
    if session.scalar(select(AgentRow.id).where(AgentRow.name == name)) is not None:
        raise Conflict(f"an agent named {name!r} exists; issue a new token or change them instead")
    token, digest = _new_token()
    row = AgentRow(
        name=name, display_name=display_name, role=str(role), active=True, created_at=at,
        token_hash=digest,
    )
    session.add(row)
    session.flush()
    audit.append(session, at=at, actor=actor, action=AuditAction.AGENT_ADDED, target=_target(name),
                 detail={"role": str(role)})
    return to_agent(row), token


def new_token(session: Session, name: str, *, actor: str, at: datetime) -> tuple[Agent, str]:
    """Stage a new token for ``name``; the old one stops working when this commits."""
    row = _row(session, name)
    token, row.token_hash = _new_token()
    audit.append(session, at=at, actor=actor, action=AuditAction.TOKEN_ISSUED, target=_target(name))
    return to_agent(row), token


def change_agent(session: Session, name: str, patch: AgentPatch, *, actor: str, at: datetime) -> Agent:
    """Stage a change of role, display name or active state, one audit record per change.

    The desk must keep an active admin: demoting or disabling the last one is refused.
    """
    row = _row(session, name)
    fields = patch.model_fields_set
    losing_admin = row.role == Role.ADMIN and row.active and (
        ("role" in fields and patch.role not in (None, Role.ADMIN))
        or ("active" in fields and patch.active is False)
    )
    if losing_admin and _active_admins(session) <= 1:
        raise ValidationProblem.field("role", f"{name} is the desk's last active admin")
    if "role" in fields and patch.role is not None and patch.role != row.role:
        audit.append(session, at=at, actor=actor, action=AuditAction.ROLE_CHANGE, target=_target(name),
                     detail={"from": row.role, "to": str(patch.role)})
        row.role = str(patch.role)
    if "active" in fields and patch.active is not None and patch.active != row.active:
        action = AuditAction.AGENT_ENABLED if patch.active else AuditAction.AGENT_DISABLED
        audit.append(session, at=at, actor=actor, action=action, target=_target(name))
        row.active = patch.active
    if "display_name" in fields and patch.display_name and patch.display_name != row.display_name:
        row.display_name = patch.display_name
    session.flush()
    return to_agent(row)


def _active_admins(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(AgentRow).where(
            AgentRow.role == str(Role.ADMIN), AgentRow.active.is_(True)
        )
    ) or 0


def issue_token(
    session: Session,
    name: str,
    display_name: str,
    role: Role | str,
    *,
    actor: str | None = None,
    at: datetime | None = None,
) -> str:
    """Add ``name`` with ``role``, or give an existing agent that role, a new token and
    sign-in again. Commits; returns the token (shown once)."""
    actor = actor or audit.cli_actor()
    at = at or datetime.now(UTC)
    role = Role(role)
    if session.scalar(select(AgentRow.id).where(AgentRow.name == name)) is None:
        _agent, token = add_agent(session, name=name, display_name=display_name, role=role, actor=actor, at=at)
    else:
        change_agent(session, name, AgentPatch(role=role, display_name=display_name, active=True),
                     actor=actor, at=at)
        _agent, token = new_token(session, name, actor=actor, at=at)
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


def list_agents(session: Session, *, include_disabled: bool = False) -> list[Agent]:
    stmt = select(AgentRow).order_by(AgentRow.name)
    if not include_disabled:
        stmt = stmt.where(AgentRow.active.is_(True))
    return [to_agent(row) for row in session.scalars(stmt)]
