"""Every role × every endpoint: allowed, or 403 naming the permission; a disabled or
unknown token gets 401. The expected table is written out here, independently of
``domain.permissions``, so that a change to either shows up as a failure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from linkdesk.domain.agents import Role
from linkdesk.domain.refs import borrower_ref, case_ref
from linkdesk.server.agents import issue_token
from linkdesk.server.db import make_session_factory
from linkdesk.server.demo import seed_demo
from linkdesk.server.tables import BindingRow, BorrowerRow, CaseRow

from .conftest import SEED_NOW, Desk, raw

A, S, R, C, ADM = Role.AGENT, Role.SUPERVISOR, Role.RISK_ANALYST, Role.COMPLIANCE, Role.ADMIN
EVERYONE = {A, S, R, C, ADM}
WORKERS = EVERYONE  # every role works cases

# (method, path template, what the request does) → the roles that may.
MATRIX: dict[tuple[str, str, str], set[Role]] = {
    ("GET", "/api/v1/me", "me"): EVERYONE,
    ("POST", "/api/v1/sessions", "sign in"): EVERYONE,
    ("GET", "/api/v1/agents", "list agents"): EVERYONE,
    ("GET", "/api/v1/agents", "list agents with disabled"): {ADM},
    ("POST", "/api/v1/agents", "add agent"): {ADM},
    ("PATCH", "/api/v1/agents/{name}", "change agent"): {ADM},
    ("POST", "/api/v1/agents/{name}/token", "new token"): {ADM},
    ("GET", "/api/v1/views", "views"): WORKERS,
    ("GET", "/api/v1/cases", "list cases"): WORKERS,
    ("GET", "/api/v1/cases/count", "count cases"): WORKERS,
    ("POST", "/api/v1/cases", "create case"): WORKERS,
    ("GET", "/api/v1/cases/{ref}", "read case"): WORKERS,
    ("PATCH", "/api/v1/cases/{ref}", "update case"): WORKERS,
    ("POST", "/api/v1/cases/bulk", "bulk change"): WORKERS,
    ("POST", "/api/v1/bulk-changes/{bulk_id}/undo", "undo bulk change"): WORKERS,
    ("GET", "/api/v1/cases/{ref}/events", "timeline"): WORKERS,
    ("POST", "/api/v1/cases/{ref}/events", "comment"): WORKERS,
    ("POST", "/api/v1/cases/{ref}/reveal", "reveal phone"): {A, S, C, ADM},
    ("POST", "/api/v1/cases/{ref}/reveal", "reveal binding phone"): {A, S, C, ADM},
    ("POST", "/api/v1/cases/{ref}/reveal", "reveal name"): {A, S, C, ADM},
    ("POST", "/api/v1/cases/{ref}/reveal", "reveal id number"): {S, C, ADM},
    ("GET", "/api/v1/cases/{ref}/intel", "read intel"): WORKERS,
    ("POST", "/api/v1/cases/{ref}/intel", "check intel"): EVERYONE,
    ("POST", "/api/v1/cases/{ref}/contact-check", "contact check"): WORKERS,
    ("POST", "/api/v1/cases/{ref}/contacts", "log contact"): {A, S, ADM},
    ("GET", "/api/v1/cases/{ref}/contacts", "case contacts"): WORKERS,
    ("GET", "/api/v1/borrowers/{borrower}/contacts", "borrower contacts"): WORKERS,
    ("POST", "/api/v1/cases/{ref}/masked-calls", "masked call"): {A, S, ADM},
    ("GET", "/api/v1/masked-calls", "masked calls"): {A, S, ADM},
    ("DELETE", "/api/v1/masked-calls/{call_id}", "end masked call"): {A, S, ADM},
    ("GET", "/api/v1/cases/{ref}/playbook", "playbook"): WORKERS,
    ("POST", "/api/v1/cases/{ref}/playbook/next", "playbook step"): EVERYONE,
    ("POST", "/api/v1/cases/{ref}/rebinds", "start rebind"): {A, S, ADM},
    ("GET", "/api/v1/rebinds/{rebind_id}", "read rebind"): {A, S, ADM},
    ("POST", "/api/v1/rebinds/{rebind_id}/codes", "send rebind code"): {A, S, ADM},
    ("POST", "/api/v1/rebinds/{rebind_id}/factors", "record rebind factor"): {A, S, ADM},
    ("POST", "/api/v1/rebinds/{rebind_id}/complete", "complete rebind"): {A, S, ADM},
    ("POST", "/api/v1/rebinds/{rebind_id}/approve", "approve rebind"): {S, ADM},
    ("POST", "/api/v1/rebinds/{rebind_id}/cancel", "cancel rebind"): {A, S, ADM},
    ("GET", "/api/v1/sms-outbox", "sms outbox"): {A, S, ADM},
    ("GET", "/api/v1/do-not-contact", "do-not-contact list"): WORKERS,
    ("POST", "/api/v1/do-not-contact", "add to do-not-contact"): WORKERS,
    ("DELETE", "/api/v1/do-not-contact/{entry_id}", "remove from do-not-contact"): {S, C, ADM},
    ("GET", "/api/v1/audit", "audit"): {C, ADM},
    ("POST", "/api/v1/audit/verify", "verify audit"): {C, ADM},
    ("GET", "/api/v1/desk/settings", "desk settings"): EVERYONE,
    ("PATCH", "/api/v1/desk/settings", "change desk settings"): {ADM},
    ("GET", "/api/v1/borrowers/{borrower}", "read borrower"): WORKERS,
    ("GET", "/api/v1/borrowers/{borrower}/export", "export borrower"): {C, ADM},
    ("PATCH", "/api/v1/borrowers/{borrower}", "correct borrower"): {S, C, ADM},
    ("GET", "/api/v1/borrowers/{borrower}/holds", "legal holds"): WORKERS,
    ("POST", "/api/v1/borrowers/{borrower}/holds", "place legal hold"): {C, ADM},
    ("DELETE", "/api/v1/borrowers/{borrower}/holds/{hold_id}", "lift legal hold"): {C, ADM},
    ("POST", "/api/v1/borrowers/{borrower}/erase", "erase borrower"): {C, ADM},
}
UNGUARDED = {("GET", "/api/v1/health")}
PAST_PERMISSION = {"complete rebind", "approve rebind", "masked call", "end masked call"}
"""Allowed here means "not refused for the role": the rebind the matrix started has too few
factors to complete or approve, so the answer after the permission check is a 409; a masked
call is refused (409 contact-refused) in the quiet hours of the wall clock, and then there
is none to end (404)."""
"""Answers without a token (load balancers ask it)."""


@dataclass
class Subject:
    ref: str
    binding: str
    recycled: str = ""
    """An open recycled_number case (the playbook's routes)."""
    borrower: str = ""
    """The case's borrower (privacy requests; erased last)."""


@pytest.fixture
def staffed(team_desk: Desk) -> Iterator[tuple[Desk, dict[Role, str], Subject]]:
    """A team desk with a few cases and one token per role."""
    seed_demo(team_desk.engine, team_desk.keyring, cases=40, borrowers=15, seed=3, now=SEED_NOW)
    with make_session_factory(team_desk.engine)() as session:
        tokens = {role: issue_token(session, f"as.{role}", f"As {role}", role) for role in Role}
        issue_token(session, "someone", "Someone", Role.AGENT)
        case_id, borrower_id = session.execute(
            select(CaseRow.id, CaseRow.borrower_id)
            .join(BorrowerRow, BorrowerRow.id == CaseRow.borrower_id)
            .where(CaseRow.is_open.is_(True), CaseRow.phone_enc.is_not(None),
                   BorrowerRow.id_number_enc.is_not(None))
            .order_by(CaseRow.id)
            .limit(1)
        ).one()
        binding_id = session.scalar(select(BindingRow.id).where(BindingRow.borrower_id == borrower_id).limit(1))
        recycled_id = session.scalar(select(CaseRow.id).where(
            CaseRow.category == "recycled_number", CaseRow.is_open.is_(True)).order_by(CaseRow.id).limit(1))
    yield team_desk, tokens, Subject(case_ref(case_id), f"P-{binding_id}", case_ref(recycled_id or case_id),
                                     borrower_ref(borrower_id))


def _request(what: str, subject: Subject, role: Role) -> dict:
    reveal = {"reason": "borrower_on_line", "note": "caller confirmed date of birth"}
    return {
        "list agents with disabled": {"params": {"include_disabled": "true"}},
        "sign in": {"json": {"client": "matrix test"}},
        "add agent": {"json": {"name": f"new.{role}", "role": "agent"}},
        "change agent": {"json": {"display_name": f"Renamed by {role}"}},
        "create case": {"json": {"category": "unreachable", "subject": "cannot reach borrower"},
                        "headers": {"Idempotency-Key": f"matrix-{role}"}},
        "update case": {"json": {"priority": "high" if role != ADM else "low"}},
        "bulk change": {"json": {"refs": [subject.ref], "action": "tag", "value": f"matrix-{role}"}},
        "comment": {"json": {"kind": "note", "body": f"checked by {role}"}},
        "start rebind": {"json": {"phone": "+8619912340007"}},
        "send rebind code": {"json": {"factor": "otp_new"}},
        "record rebind factor": {"json": {"kind": "video", "note": f"video call by {role}"}},
        "reveal phone": {"json": {"field": "phone"} | reveal},
        "reveal binding phone": {"json": {"field": "phone", "binding": subject.binding} | reveal},
        "reveal name": {"json": {"field": "name"} | reveal},
        "reveal id number": {"json": {"field": "id_number"} | reveal},
        "change desk settings": {"json": {"reveal_display_seconds": 30}},
        "contact check": {"json": {}},
        "log contact": {"json": {"channel": "call", "direction": "inbound", "outcome": "connected",
                                 "note": f"borrower called {role}"}},
        "masked call": {"json": {"agent_line": "+8613900001111", "expires_in": 10}},
        "correct borrower": {"json": {"name": f"Renamed {role}"}},
        "place legal hold": {"json": {"reason": f"court order seen by {role}"}},
        "erase borrower": {"json": {"reason": "subject_request"}},
        "add to do-not-contact": {"json": {"case": subject.ref, "reason": "third_party_complaint",
                                           "note": f"complaint taken by {role}"}},
    }.get(what, {})


async def test_every_route_is_in_the_matrix(staffed) -> None:  # type: ignore[no-untyped-def]
    desk, _tokens, _subject = staffed
    routes = {
        (method.upper(), path)
        for path, operations in desk.app.openapi()["paths"].items()
        for method in operations
    }
    covered = {(method, path) for method, path, _ in MATRIX} | UNGUARDED
    assert routes == covered


@pytest.mark.parametrize("role", list(Role))
async def test_role_matrix(staffed, role: Role) -> None:  # type: ignore[no-untyped-def]
    desk, tokens, subject = staffed
    outcomes = {}
    async with desk.app.router.lifespan_context(desk.app), raw(desk, tokens[role]) as http:
        for (method, template, what), allowed in MATRIX.items():
            path = template.removeprefix("/api/v1").format(ref=subject.ref, name="someone", entry_id=1, bulk_id=1, rebind_id=1, call_id=1,
                                                           borrower=subject.borrower, hold_id=1)
            options = _request(what, subject, role)
            if what == "correct borrower":
                version = (await http.get(f"/borrowers/{subject.borrower}")).headers.get("etag") or '"1"'
                options.setdefault("headers", {})["If-Match"] = version
            if "playbook" in what:
                path = path.replace(subject.ref, subject.recycled)
            if what == "update case":
                version = (await http.get(f"/cases/{subject.ref}")).headers.get("etag") or '"1"'
                options.setdefault("headers", {})["If-Match"] = version
            response = await http.request(method, path, **options)
            if role in allowed and what in PAST_PERMISSION:
                outcomes[what] = response.status_code not in (401, 403) or response.text
            elif role in allowed:
                outcomes[what] = response.status_code < 300 or response.text
            else:
                body = response.json()
                outcomes[what] = response.status_code == 403 and body["type"].endswith(":forbidden") \
                    and "permission" in body or response.text
    refused = {what: outcome for what, outcome in outcomes.items() if outcome is not True}
    assert refused == {}


async def test_disabled_and_unknown_tokens_get_401(staffed) -> None:  # type: ignore[no-untyped-def]
    desk, tokens, subject = staffed
    async with desk.app.router.lifespan_context(desk.app):
        async with raw(desk, tokens[ADM]) as admin:
            response = await admin.patch("/agents/as.supervisor", json={"active": False})
            assert response.status_code == 200 and response.json()["active"] is False
        for token in (tokens[S], "ld_not-a-token"):
            async with raw(desk, token) as http:
                for (method, template, _what) in MATRIX:
                    path = template.removeprefix("/api/v1").format(ref=subject.ref, name="someone", entry_id=1, bulk_id=1, rebind_id=1, call_id=1,
                                                                   borrower=subject.borrower, hold_id=1)
                    response = await http.request(method, path, json={})
                    assert response.status_code == 401, (method, path)
                    assert response.json()["type"] == "urn:linkdesk:problem:unauthorized"
