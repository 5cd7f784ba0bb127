"""The do-not-contact list: who may add and remove, the audit records, and the contact
check that refuses a listed number and names the rule."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from linkdesk.client.errors import Conflict, Forbidden, NotFound, ValidationFailed
from linkdesk.domain.agents import Role
from linkdesk.domain.contact import DoNotContactCreate
from linkdesk.domain.refs import case_ref
from linkdesk.server.agents import issue_token
from linkdesk.server.db import make_session_factory
from linkdesk.server.demo import seed_demo

from .conftest import SEED_NOW, Desk
from .intel_helpers import CHECK_AT, Clock, app_for, clients


@dataclass
class Listed:
    desk: Desk
    tokens: dict[Role, str]
    case: str
    """An open case whose number looked fine at its last check."""
    binding: str
    other_binding: str | None
    """Another binding of the case's borrower, if any."""
    foreign_binding: str
    """A binding of another borrower."""


@pytest.fixture
def listed(team_desk: Desk) -> Iterator[Listed]:
    seed_demo(team_desk.engine, team_desk.keyring, cases=80, borrowers=30, seed=4, now=SEED_NOW)
    with make_session_factory(team_desk.engine)() as session:
        tokens = {role: issue_token(session, f"as.{role}", f"As {role}", role) for role in Role}
        case_id, borrower_id, binding_id = session.execute(sa.text(
            "SELECT c.id, c.borrower_id, c.binding_id FROM cases c JOIN phone_bindings b ON b.id = c.binding_id "
            "JOIN risk_assessments a ON a.binding_id = b.id WHERE c.is_open AND b.status = 'active' "
            "AND NOT a.stop_contact ORDER BY c.id LIMIT 1"
        )).one()
        other = session.scalar(sa.text("SELECT id FROM phone_bindings WHERE borrower_id = :b AND id != :i "
                                       "ORDER BY id LIMIT 1"), {"b": borrower_id, "i": binding_id})
        foreign = session.scalar(sa.text("SELECT id FROM phone_bindings WHERE borrower_id != :b ORDER BY id LIMIT 1"),
                                 {"b": borrower_id})
    yield Listed(team_desk, tokens, case_ref(case_id), f"P-{binding_id}", f"P-{other}" if other else None,
                 f"P-{foreign}")


async def test_add_list_remove_by_role_with_audit_records(listed: Listed) -> None:
    app = app_for(listed.desk, Clock())
    async with clients(app, listed.tokens[Role.AGENT]) as (agent, _):
        assert (await agent.contact_check(listed.case)).allowed
        entry = await agent.add_do_not_contact(DoNotContactCreate(
            case=listed.case, reason="third_party_complaint", note="接听人称不认识借款人，要求停止来电"))
        assert entry.reason == "third_party_complaint" and entry.added_by == "as.agent"
        assert entry.case == listed.case and entry.binding == listed.binding
        assert "****" in entry.phone and entry.added_at == CHECK_AT
        with pytest.raises(Conflict) as twice:
            await agent.add_do_not_contact(DoNotContactCreate(case=listed.case, reason="third_party_complaint"))
        assert f"entry {entry.id}" in (twice.value.problem.detail or "")
        assert [e.id for e in (await agent.do_not_contact()).items] == [entry.id]
        assert [e.id for e in (await agent.do_not_contact(reason="reassigned")).items] == []

        check = await agent.contact_check(listed.case)
        assert not check.allowed and check.rule == "do_not_contact"
        assert entry.phone in check.detail and "third party complained" in check.detail
        with pytest.raises(Forbidden) as refused:
            await agent.remove_do_not_contact(entry.id)
        assert refused.value.problem.model_extra["permission"] == "dnc.delete"

    async with clients(app, listed.tokens[Role.SUPERVISOR]) as (supervisor, _):
        await supervisor.remove_do_not_contact(entry.id)
        with pytest.raises(NotFound):
            await supervisor.remove_do_not_contact(entry.id)
        assert (await supervisor.do_not_contact()).items == []
        assert (await supervisor.contact_check(listed.case)).allowed

    async with clients(app, listed.tokens[Role.COMPLIANCE]) as (compliance, _):
        records = {r.action: r for r in (await compliance.audit(case=listed.case)).items}
    added, removed = records["dnc_added"], records["dnc_removed"]
    assert (added.actor, added.target, added.reason) == ("as.agent", f"dnc:{entry.id}", "third_party_complaint")
    assert added.detail["phone"] == entry.phone and added.detail["automatic"] is False
    assert (removed.actor, removed.target) == ("as.supervisor", f"dnc:{entry.id}")
    async with clients(app, listed.tokens[Role.ADMIN]) as (admin, _):
        assert (await admin.verify_audit()).intact  # appended in the chain like every record


async def test_another_binding_of_the_borrower_and_what_is_not_linked(listed: Listed) -> None:
    async with clients(app_for(listed.desk, Clock()), listed.tokens[Role.SUPERVISOR]) as (client, http):
        with pytest.raises(ValidationFailed) as foreign:
            await client.add_do_not_contact(DoNotContactCreate(
                case=listed.case, binding=listed.foreign_binding, reason="reassigned"))
        assert foreign.value.problem.type.endswith(":not-linked")
        response = await http.post(f"/cases/{listed.case}/contact-check", json={"binding": listed.foreign_binding})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "binding"
        if listed.other_binding is not None:
            entry = await client.add_do_not_contact(DoNotContactCreate(
                case=listed.case, binding=listed.other_binding, reason="reassigned"))
            assert entry.binding == listed.other_binding
            assert (await client.contact_check(listed.case, binding=listed.other_binding)).rule == "do_not_contact"
            assert (await client.contact_check(listed.case)).allowed  # the case's own number is another one
        with pytest.raises(NotFound):
            await client.add_do_not_contact(DoNotContactCreate(case="LD-999999", reason="reassigned"))


async def test_contact_check_names_each_rule(listed: Listed) -> None:
    desk = listed.desk
    with desk.engine.begin() as conn:
        unbound_case, unbound_binding = conn.execute(sa.text(
            "SELECT c.id, b.id FROM cases c JOIN phone_bindings b ON b.id = c.binding_id "
            "LEFT JOIN risk_assessments a ON a.binding_id = b.id "
            "WHERE b.status IN ('unbound', 'reassigned') ORDER BY c.id LIMIT 1")).one()
        conn.execute(sa.text("UPDATE risk_assessments SET stop_contact = :f WHERE binding_id = :b"),
                     {"f": False, "b": unbound_binding})
        bare = conn.scalar(sa.text("SELECT id FROM cases WHERE borrower_id IS NULL AND phone_enc IS NULL LIMIT 1"))
    async with clients(app_for(desk, Clock()), listed.tokens[Role.AGENT]) as (client, _):
        inactive = await client.contact_check(case_ref(unbound_case))
        assert (inactive.allowed, inactive.rule) == (False, "binding_inactive")
        assert f"P-{unbound_binding}" in inactive.detail and "no longer" in inactive.detail
        with desk.engine.begin() as conn:
            conn.execute(sa.text("UPDATE risk_assessments SET stop_contact = :t WHERE binding_id = :b"),
                         {"t": True, "b": unbound_binding})
        stop = await client.contact_check(case_ref(unbound_case))
        assert (stop.allowed, stop.rule) == (False, "stop_contact")
        if bare is not None:
            nothing = await client.contact_check(case_ref(bare))
            assert (nothing.allowed, nothing.rule) == (False, "no_number")
        fine = await client.contact_check(listed.case)
        assert fine.allowed and fine.rule is None and "may be contacted" in fine.detail
