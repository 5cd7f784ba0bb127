"""The contact log and masked calls: logging and listing, each collection rule refusing
with its name (and changing nothing but the refusal's event), binding and ending a
privacy number with the sandbox, expiry, and a provider that fails."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from linkdesk.calling.base import CallingError
from linkdesk.calling.sandbox import SandboxCallingProvider
from linkdesk.client.errors import CallingFailed, Conflict, ContactRefused, ValidationFailed
from linkdesk.domain.contact import (
    ContactCheckRequest,
    ContactCreate,
    DoNotContactCreate,
    MaskedCallCreate,
)
from linkdesk.domain.refs import borrower_ref, case_ref
from linkdesk.server.demo import seed_demo

from .conftest import SEED_NOW, Desk
from .intel_helpers import CHECK_AT, Clock, app_for, clients

QUIET = CHECK_AT.replace(hour=15)  # 23:00 in Shanghai
AGENT_LINE = "+8613900001111"


@dataclass
class Subject:
    desk: Desk
    case: str
    borrower: str
    binding: str
    binding_id: int


@pytest.fixture
def subject(fresh: Desk) -> Iterator[Subject]:
    seed_demo(fresh.engine, fresh.keyring, cases=24, borrowers=10, seed=5, now=SEED_NOW)
    with fresh.engine.connect() as conn:
        case_id, borrower_id, binding_id = conn.execute(sa.text(
            "SELECT c.id, c.borrower_id, c.binding_id FROM cases c JOIN phone_bindings b ON b.id = c.binding_id "
            "JOIN risk_assessments a ON a.binding_id = b.id WHERE c.is_open AND b.status = 'active' "
            "AND NOT a.stop_contact ORDER BY c.id LIMIT 1"
        )).one()
    yield Subject(fresh, case_ref(case_id), borrower_ref(borrower_id), f"P-{binding_id}", binding_id)


def _count(desk: Desk, sql: str, **params: object) -> int:
    with desk.engine.connect() as conn:
        return int(conn.scalar(sa.text(sql), params) or 0)


def _call(outcome: str = "connected", **extra: str) -> ContactCreate:
    return ContactCreate.model_validate({"channel": "call", "outcome": outcome} | extra)


async def test_log_list_and_timeline(subject: Subject) -> None:
    clock = Clock()
    async with clients(app_for(subject.desk, clock)) as (client, _):
        before = await client.get_case(subject.case)
        entry = await client.log_contact(subject.case, _call(note="借款人确认下周还款"))
        assert (entry.case, entry.borrower, entry.binding) == (subject.case, subject.borrower, subject.binding)
        assert entry.outcome == "connected" and entry.party == "debtor" and entry.agent == "local"
        assert entry.contacted_at == CHECK_AT and "****" in (entry.phone or "")
        sms = await client.log_contact(subject.case, ContactCreate(channel="sms", outcome="delivered"))
        assert [e.id for e in (await client.case_contacts(subject.case)).items] == [sms.id, entry.id]
        assert [e.id for e in (await client.borrower_contacts(subject.borrower)).items] == [sms.id, entry.id]
        page = await client.case_contacts(subject.case, limit=1)
        assert page.next_cursor and [e.id for e in (await client.case_contacts(
            subject.case, cursor=page.next_cursor, limit=1)).items] == [entry.id]
        events = [e for e in (await client.list_events(subject.case)).items if e.kind == "contact"]
        assert [(e.data["contact"], e.data["outcome"], e.data["binding"]) for e in events] == [
            (entry.id, "connected", subject.binding), (sms.id, "delivered", subject.binding)]
        assert all(e.internal for e in events)
        assert (await client.get_case(subject.case)).version == before.version + 2
    assert _count(subject.desk, "SELECT count(*) FROM contact_log WHERE phone_masked LIKE '%****%'") == 2


async def test_a_refusal_names_the_rule_and_changes_nothing_but_its_event(subject: Subject) -> None:
    clock = Clock(QUIET)
    async with clients(app_for(subject.desk, clock)) as (client, _):
        version = (await client.get_case(subject.case)).version
        check = await client.contact_check(subject.case)
        assert (check.allowed, check.rule, check.binding) == (False, "quiet_hours", subject.binding)
        tomorrow_8am = (QUIET + timedelta(days=1)).replace(hour=0, minute=0)  # 08:00 in Shanghai
        assert check.allowed_from == tomorrow_8am
        with pytest.raises(ContactRefused) as refused:
            await client.log_contact(subject.case, _call())
        assert refused.value.rule == "quiet_hours" and refused.value.allowed_from == tomorrow_8am
        assert refused.value.status == 409 and "22:00" in str(refused.value)

        clock.now = CHECK_AT
        with pytest.raises(ContactRefused) as family:
            await client.log_contact(subject.case, _call(party="family"))
        assert family.value.rule == "not_debtor"
        assert (await client.check_contact(subject.case, ContactCheckRequest(party="employer"))).rule == "not_debtor"

        assert (await client.get_case(subject.case)).version == version
        await client.add_do_not_contact(DoNotContactCreate(case=subject.case, reason="third_party_complaint"))
        version = (await client.get_case(subject.case)).version
        with pytest.raises(ContactRefused) as listed:
            await client.log_contact(subject.case, ContactCreate(channel="app_message", outcome="delivered"))
        assert listed.value.rule == "do_not_contact"
        with pytest.raises(ContactRefused):
            await client.request_masked_call(subject.case, MaskedCallCreate(agent_line=AGENT_LINE))

        assert (await client.case_contacts(subject.case)).items == []
        assert (await client.get_case(subject.case)).version == version
        refusals = [e.data for e in (await client.list_events(subject.case)).items
                    if e.kind == "contact" and e.data.get("refused")]
        assert [(r["rule"], r["attempt"]) for r in refusals] == [
            ("quiet_hours", "contact"), ("not_debtor", "contact"), ("do_not_contact", "contact"),
            ("do_not_contact", "masked_call")]
    assert _count(subject.desk, "SELECT count(*) FROM masked_calls") == 0


async def test_the_fourth_connected_call_of_the_day_is_refused(subject: Subject) -> None:
    clock = Clock()
    async with clients(app_for(subject.desk, clock)) as (client, http):
        key = {"Idempotency-Key": "first-call"}
        body = {"channel": "call", "outcome": "connected"}
        first = await http.post(f"/cases/{subject.case}/contacts", json=body, headers=key)
        again = await http.post(f"/cases/{subject.case}/contacts", json=body, headers=key)
        assert first.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
        for _ in range(2):
            clock.now += timedelta(minutes=20)
            await client.log_contact(subject.case, _call())
        clock.now += timedelta(minutes=20)
        assert (await client.log_contact(subject.case, _call("no_answer"))).outcome == "no_answer"
        with pytest.raises(ContactRefused) as fourth:
            await client.log_contact(subject.case, _call())
        assert fourth.value.rule == "daily_call_limit" and "3 connected calls" in str(fourth.value)
        assert (await client.contact_check(subject.case)).rule == "daily_call_limit"
        assert (await client.log_contact(subject.case, ContactCreate(channel="sms", outcome="delivered")))
        clock.now = CHECK_AT + timedelta(days=1)  # the next local day
        assert (await client.log_contact(subject.case, _call())).outcome == "connected"
    assert _count(subject.desk, "SELECT count(*) FROM contact_log WHERE outcome = 'connected'") == 4


async def test_masked_call_bind_list_end_and_expiry(subject: Subject) -> None:
    clock = Clock()
    app = app_for(subject.desk, clock)
    app.state.calling_provider = SandboxCallingProvider(clock=clock)
    async with clients(app) as (client, http):
        call = await client.request_masked_call(subject.case, MaskedCallCreate(agent_line="139 0000 1111"))
        assert call.secret_no.startswith("+861700000") and len(call.secret_no) == 14
        assert call.expires_at == CHECK_AT + timedelta(minutes=30) and call.active
        assert (call.binding, call.agent_line, call.provider) == (subject.binding, "139****1111", "sandbox")
        assert [c.id for c in await client.masked_calls()] == [call.id]
        assert [c.id for c in await client.masked_calls(case=subject.case)] == [call.id]
        event = [e for e in (await client.list_events(subject.case)).items if e.kind == "masked_call"][-1]
        assert event.data["secret_no"] == call.secret_no and event.data["expires_at"].startswith("2026-11-02T10:00")
        record = (await client.audit(action="masked_call")).items[0]
        assert (record.target, record.reason, record.detail["secret_no"]) == (
            f"masked_call:{call.id}", "bind", call.secret_no)

        await client.end_masked_call(call.id)
        assert await client.masked_calls() == []
        with pytest.raises(Conflict):
            await client.end_masked_call(call.id)
        assert [r.reason for r in (await client.audit(action="masked_call")).items] == ["unbind", "bind"]

        day = await client.request_masked_call(
            subject.case, MaskedCallCreate(binding=subject.binding, agent_line=AGENT_LINE, expires_in=24 * 60))
        clock.now += timedelta(hours=24)
        assert await client.masked_calls() == []
        with pytest.raises(Conflict) as expired:
            await client.end_masked_call(day.id)
        assert "expired" in str(expired.value)

        too_long = await http.post(f"/cases/{subject.case}/masked-calls",
                                   json={"agent_line": AGENT_LINE, "expires_in": 24 * 60 + 1})
        assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "expires_in"
        with pytest.raises(ValidationFailed) as bad_line:
            await client.request_masked_call(subject.case, MaskedCallCreate(agent_line="12345"))
        assert bad_line.value.field_errors[0].field == "agent_line" and "12345" not in str(bad_line.value)
    with subject.desk.engine.connect() as conn:
        sealed = conn.scalar(sa.text("SELECT agent_line_enc FROM masked_calls WHERE id = :i"), {"i": call.id})
    assert b"13900001111" not in sealed


class _EmptyPool:
    name = "aliyun"

    async def bind_axb(self, phone_a: str, phone_b: str, *, expires_at: datetime) -> None:
        raise CallingError("aliyun", "no privacy number is free in the pool", code="isv.NO_AVAILABLE_NUMBER")

    async def unbind(self, subscription_id: str, secret_no: str) -> None:
        raise AssertionError("nothing was bound")

    async def aclose(self) -> None:
        return None


async def test_a_failing_provider_is_a_502_and_nothing_is_kept(subject: Subject) -> None:
    app = app_for(subject.desk, Clock())
    app.state.calling_provider = _EmptyPool()
    async with clients(app) as (client, _):
        with pytest.raises(CallingFailed) as failed:
            await client.request_masked_call(subject.case, MaskedCallCreate(agent_line=AGENT_LINE))
        assert failed.value.status == 502 and failed.value.code == "isv.NO_AVAILABLE_NUMBER"
        assert await client.masked_calls() == []
    assert _count(subject.desk, "SELECT count(*) FROM masked_calls") == 0


async def test_the_quiet_hours_follow_the_desk_time_zone(subject: Subject) -> None:
    clock = Clock(CHECK_AT.replace(hour=7))  # 15:00 in Shanghai, 07:00 in London
    async with clients(app_for(subject.desk, clock)) as (client, http):
        assert (await client.contact_check(subject.case)).allowed
        bad = await http.patch("/desk/settings", json={"contact_timezone": "Mars/Olympus"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "contact_timezone"
        changed = await http.patch("/desk/settings", json={"contact_timezone": "Europe/London"})
        assert changed.status_code == 200 and changed.json()["contact_timezone"] == "Europe/London"
        check = await client.contact_check(subject.case)
        assert check.rule == "quiet_hours" and check.allowed_from == CHECK_AT.replace(hour=8, minute=0)
        record = (await client.audit(action="settings_change")).items[0]
        assert record.target == "desk.settings.contact_timezone" and record.detail["to"] == "Europe/London"
