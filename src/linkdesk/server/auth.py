"""Who is calling, and may they: a bearer token per agent (or the local agent on the
embedded desk), checked against the one permission table in ``domain.permissions``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from linkdesk.domain.permissions import Permission, can, roles_with
from linkdesk.server.agents import Caller, caller_for_token, local_caller
from linkdesk.server.errors import Forbidden, Unauthorized


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


def get_caller(request: Request, session: Session = Depends(get_session)) -> Caller:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        caller = caller_for_token(session, token.strip())
        if caller is None:
            raise Unauthorized("unknown or disabled token")
        return caller
    if request.app.state.settings.local_agent:
        return local_caller(session)
    raise Unauthorized("a bearer token is required")


def check(caller: Caller, permission: Permission) -> None:
    """403 unless the caller's role holds ``permission``; the answer names who may."""
    if not can(caller.agent.role, permission):
        allowed = ", ".join(str(role) for role in roles_with(permission))
        raise Forbidden(
            f"the {caller.agent.role} role may not {permission} ({allowed} may)",
            permission=str(permission),
        )


def require(permission: Permission) -> Callable[..., Caller]:
    """A dependency: the caller, once their role is known to hold ``permission``."""

    def dependency(caller: Caller = Depends(get_caller)) -> Caller:
        check(caller, permission)
        return caller

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency
