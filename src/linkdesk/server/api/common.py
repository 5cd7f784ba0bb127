"""Helpers shared by the routers: JSON answers, the clock, idempotent creates."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linkdesk.domain.permissions import Permission as P
from linkdesk.domain.problems import PROBLEM_MEDIA_TYPE, Problem
from linkdesk.server import idempotency
from linkdesk.server.agents import Caller
from linkdesk.server.auth import get_caller, get_session, require
from linkdesk.server.errors import ValidationProblem, VersionRequired

_PROBLEM_DESCRIPTIONS = {
    400: "Bad request: a body that is not JSON, or a cursor made for another query",
    401: "Missing, unknown or disabled token",
    403: "The caller's role may not do this; `permission` names what is missing",
    404: "No such case or agent",
    410: "The borrower was erased (privacy request): their data can no longer be read",
    409: "The change does not fit the current state (invalid transition, closed case, "
    "an existing name, a stored value that cannot be decrypted)",
    412: "Stale version: someone changed the case since it was read",
    422: "Invalid input; `errors` names each field",
    428: "If-Match is required",
    429: "Too many requests; `Retry-After` says when to try again",
    502: "The masked-calling provider failed; `code` is its error code",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problem+json answers a route can give (400 and 401
    always: any request can be malformed or unauthenticated)."""
    return {
        status: {
            "model": Problem,
            "description": _PROBLEM_DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted({400, 401, *statuses})
    }


SessionDep = Annotated[Session, Depends(get_session)]
CallerDep = Annotated[Caller, Depends(get_caller)]
"""Any signed-in agent, whatever their role."""
CaseReader = Annotated[Caller, Depends(require(P.CASES_READ))]
CaseCreator = Annotated[Caller, Depends(require(P.CASES_CREATE))]
CaseEditor = Annotated[Caller, Depends(require(P.CASES_UPDATE))]
Commenter = Annotated[Caller, Depends(require(P.CASES_COMMENT))]
AgentReader = Annotated[Caller, Depends(require(P.AGENTS_READ))]
AgentManager = Annotated[Caller, Depends(require(P.AGENTS_MANAGE))]
AuditReader = Annotated[Caller, Depends(require(P.AUDIT_READ))]
DeskAdmin = Annotated[Caller, Depends(require(P.DESK_SETTINGS))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def now(request: Request) -> datetime:
    return request.app.state.clock()


def json_answer(model: BaseModel | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    content = model.model_dump(mode="json") if isinstance(model, BaseModel) else model
    return JSONResponse(content, status_code=status, headers=headers)


def case_headers(payload: dict[str, Any], *, location: bool) -> dict[str, str]:
    headers = {}
    if "version" in payload:
        headers["ETag"] = f'"{payload["version"]}"'
    if location and "ref" in payload:
        headers["Location"] = f"/api/v1/cases/{payload['ref']}"
    return headers


def idempotent_create(
    request: Request,
    session: Session,
    caller: Caller,
    key: str | None,
    body: BaseModel,
    create: Callable[[datetime], dict[str, Any]],
    headers_of: Callable[[dict[str, Any]], dict[str, str]],
) -> JSONResponse:
    """Run ``create`` (which stages writes and returns the answer) once per key.

    The key's record is written in the same transaction as the create, so a crash
    cannot leave one without the other; two racing requests with one key collide on
    the key's primary key and the loser answers the winner's result.
    """
    at = now(request)
    if key is not None and not key.strip():
        raise ValidationProblem.field("Idempotency-Key", "must not be empty")
    method_path = f"{request.method} {request.url.path}"
    digest = idempotency.request_hash(method_path, body.model_dump(mode="json"))
    if key:
        stored = idempotency.lookup(session, caller.id, key, digest, at)
        if stored is not None:
            return _replay(stored.status_code, stored.response_json, headers_of)
    payload = create(at)
    if key:
        idempotency.remember(session, caller.id, key, method_path, digest, 201, payload, at)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        stored = idempotency.lookup(session, caller.id, key, digest, at) if key else None
        if stored is None:
            raise
        return _replay(stored.status_code, stored.response_json, headers_of)
    return JSONResponse(payload, status_code=201, headers=headers_of(payload))


def _replay(
    status: int, payload: dict[str, Any], headers_of: Callable[[dict[str, Any]], dict[str, str]]
) -> JSONResponse:
    headers = headers_of(payload) | {"Idempotency-Replayed": "true"}
    return JSONResponse(payload, status_code=status, headers=headers)


_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,12})"?\s*$')


def expected_version(if_match: str | None, what: str, example: int) -> int:
    """The version an update was read at, from its ``If-Match`` (``"3"``, ``W/"3"`` or
    ``3``); a missing or malformed header is a 428 saying what to send."""
    if not if_match:
        raise VersionRequired(f"send If-Match with the {what}'s version (ETag) you read")
    match = _ETAG.match(if_match)
    if match is None:
        raise VersionRequired(f'If-Match must be the {what}\'s ETag, e.g. "{example}"')
    return int(match.group(1))
