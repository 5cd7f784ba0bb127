"""Who is calling: a bearer token per agent, or the local agent on the embedded desk."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from linkdesk.server.agents import Caller, caller_for_token, local_caller
from linkdesk.server.errors import Unauthorized


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
