"""Rebinds over the API (SQLite and PostgreSQL): the happy path end to end, the
do-not-contact refusal, four-eyes approval, one-time codes (attempts, expiry, resend),
and the outbox holding the code but never the plain number."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from linkdesk.client import DeskClient
from linkdesk.client.errors import Conflict, Forbidden, RateLimited, ValidationFailed
from linkdesk.domain.agents import Role
from linkdesk.domain.borrowers import mask_id_number, mask_name
from linkdesk.domain.cases import CaseCategory, CaseCreate
from linkdesk.domain.contact import DoNotContactReason
from linkdesk.domain.phones import last_four, mask, national_digits
from linkdesk.domain.rebind import FactorCreate, RebindStatus
from linkdesk.domain.refs import borrower_ref
from linkdesk.intel.sandbox import Lifecycle, register
from linkdesk.server import do_not_contact
from linkdesk.server.agents import issue_token
from linkdesk.server.crypto import aad
from linkdesk.server.db import make_session_factory
from linkdesk.server.tables import BindingRow, BorrowerRow

from .conftest import Desk
from .intel_helpers import Clock, app_for, clients, utc

OLD, NEW, OTHER = "+8613800138000", "+8613912345678", "+8618611112222"
NAME, ID_NUMBER = "王小明", "110101199003071234"
CODE = re.compile(r"\b(\d{6})\b")


@dataclass
class Setup:
    desk: Desk
    tokens: dict[str, str]
    case: str
    borrower_id: int


def _borrower(session, keyring, e164: str, name: str, id_number: str) -> int:  # type: ignore[no-untyped-def]
    at = utc(2026, 1, 5, 9, 0)
    borrower_id = session.execute(sa.insert(BorrowerRow).values(
        name_masked=mask_name(name), id_number_masked=mask_id_number(id_number), created_at=at, key_version=1,
    ).returning(BorrowerRow.id)).scalar_one()
    session.execute(sa.update(BorrowerRow).where(BorrowerRow.id == borrower_id).values(
        name_enc=keyring.encrypt(name, aad("borrowers", "name_enc", borrower_id)),
        id_number_enc=keyring.encrypt(id_number, aad("borrowers", "id_number_enc", borrower_id))))
    binding_id = session.execute(sa.insert(BindingRow).values(
        borrower_id=borrower_id, phone_index=keyring.blind_index(e164), phone_masked=mask(e164),
        last4=last_four(e164), status="active", bound_at=at, key_version=1,
    ).returning(BindingRow.id)).scalar_one()
    session.execute(sa.update(BindingRow).where(BindingRow.id == binding_id).values(
        phone_enc=keyring.encrypt(e164, aad("phone_bindings", "phone_enc", binding_id))))
    return borrower_id


@pytest.fixture
async def setup(team_desk: Desk) -> Setup:
    with make_session_factory(team_desk.engine)() as session:
        tokens = {name: issue_token(session, name, name.title(), role) for name, role in (
            ("agent", Role.AGENT), ("boss", Role.SUPERVISOR), ("boss2", Role.SUPERVISOR), ("admin", Role.ADMIN))}
        borrower_id = _borrower(session, team_desk.keyring, OLD, NAME, ID_NUMBER)
        _borrower(session, team_desk.keyring, OTHER, "李四", "110101198801011111")
        register(session, team_desk.keyring, NEW, Lifecycle(
            activated_at=utc(2025, 3, 1), owner_name=NAME, owner_id_number=ID_NUMBER, carrier="China Mobile"))
        session.commit()
    async with clients(app_for(team_desk, Clock()), tokens["agent"]) as (agent, _):
        case = await agent.create_case(CaseCreate(category=CaseCategory.REBIND, subject="换号 lost SIM",
                                                  borrower=borrower_ref(borrower_id)))
    return Setup(team_desk, tokens, case.ref, borrower_id)


async def outbox_code(client: DeskClient) -> str:
    message = (await client.sms_outbox(limit=1)).items[0]
    match = CODE.search(message.text)
    assert match, message.text
    return match.group(1)


async def test_happy_path_moves_the_binding_with_timeline_audit_and_sealed_outbox(setup: Setup) -> None:
    clock = Clock()
    app = app_for(setup.desk, clock)
    async with clients(app, setup.tokens["agent"]) as (agent, _):
        rebind = await agent.start_rebind(setup.case, "139 1234 5678")
        assert rebind.status is RebindStatus.VERIFYING and rebind.new_phone == "139****5678"
        assert rebind.old_phone == "138****8000" and not rebind.bound_elsewhere
        assert rebind.decision.outcome == "insufficient"

        rebind = await agent.record_rebind_factor(rebind.id, FactorCreate(kind="three_element"))
        assert [(f.kind, f.passed) for f in rebind.factors] == [("three_element", True)]
        rebind = await agent.send_rebind_code(rebind.id, "otp_new")
        assert rebind.codes[0].to == "139****5678" and rebind.codes[0].attempts_left == 5
        code = await outbox_code(agent)
        outbox = (await agent.sms_outbox()).items[0]
        assert outbox.to == "139****5678" and outbox.case == setup.case
        rebind = await agent.record_rebind_factor(rebind.id, FactorCreate(kind="otp_new", code=code))
        # two factors on the new number are one group: still not enough
        assert rebind.decision.outcome == "insufficient" and rebind.decision.groups == ["new_number"]
        with pytest.raises(Conflict) as short:
            await agent.complete_rebind(rebind.id)
        assert "independent of the new number" in (short.value.problem.detail or "")
        with pytest.raises(ValidationFailed) as vague:
            await agent.record_rebind_factor(rebind.id, FactorCreate(kind="id_document", note="ok"))
        assert vague.value.field_errors[0].field == "note"
        rebind = await agent.record_rebind_factor(
            rebind.id, FactorCreate(kind="id_document", note="身份证原件与本人视频比对一致"))
        assert rebind.decision.outcome == "allowed"

        clock.now += timedelta(minutes=1)
        done = await agent.complete_rebind(rebind.id)
        assert done.status is RebindStatus.COMPLETED and done.new_binding and done.approved_by is None

        case = await agent.get_case(setup.case)
        bindings = {b.ref: b for b in case.borrower.bindings}  # type: ignore[union-attr]
        assert bindings[done.new_binding].status == "active" and bindings[done.new_binding].phone.masked == "139****5678"
        assert bindings[rebind.old_binding].status == "unbound"  # type: ignore[index]
        assert bindings[rebind.old_binding].unbound_at == clock.now  # type: ignore[index]
        events = (await agent.list_events(setup.case, limit=200)).items
        completed = [e for e in events if e.kind == "rebind" and e.data.get("step") == "completed"]
        assert completed and "138****8000 → 139****5678" in completed[0].body
        assert completed[0].data["factors"] == "id_document, otp_new, three_element"
        assert case.risk is not None  # re-scored from the three-element check of the new number
    async with clients(app, setup.tokens["admin"]) as (admin, _):
        records = (await admin.audit(action="rebind")).items
        assert [r.case for r in records] == [setup.case] and records[0].detail["to"] == "139****5678"
        assert (await admin.verify_audit()).intact

    with setup.desk.engine.connect() as conn:
        texts = conn.execute(sa.text("SELECT text, phone_masked, phone_enc FROM sms_outbox")).all()
    assert [t.phone_masked for t in texts] == ["139****5678"] and code in texts[0].text
    assert national_digits(NEW).encode() not in bytes(texts[0].phone_enc)
    if setup.desk.db_path is not None:
        data = b"".join(p.read_bytes() for p in setup.desk.db_path.parent.glob(setup.desk.db_path.name + "*"))
        assert code.encode() in data  # the outbox holds the code…
        for plain in (NEW, national_digits(NEW), OLD, national_digits(OLD)):
            assert plain.encode() not in data  # …and never a number in clear


async def test_do_not_contact_number_is_refused_and_nothing_is_created(setup: Setup) -> None:
    with make_session_factory(setup.desk.engine)() as session:
        do_not_contact.add(session, setup.desk.keyring, e164=NEW, reason=DoNotContactReason.THIRD_PARTY_COMPLAINT,
                           note="", case_id=None, binding_id=None, actor="test", now=utc(2026, 11, 1))
        session.commit()
    async with clients(app_for(setup.desk, Clock()), setup.tokens["agent"]) as (agent, raw):
        with pytest.raises(ValidationFailed) as refused:
            await agent.start_rebind(setup.case, NEW)
        assert refused.value.field_errors[0].field == "phone"
        assert "do-not-contact" in refused.value.field_errors[0].message
        assert national_digits(NEW) not in (refused.value.problem.detail or "")
        response = await raw.post(f"/cases/{setup.case}/rebinds", json={"phone": "12345"})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "phone"
    with setup.desk.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM rebinds")) == 0


async def test_number_of_another_borrower_needs_someone_else_to_approve(setup: Setup) -> None:
    app = app_for(setup.desk, Clock())
    async with clients(app, setup.tokens["boss"]) as (boss, _):
        rebind = await boss.start_rebind(setup.case, OTHER)
        assert rebind.bound_elsewhere and rebind.decision.approval == ["bound_elsewhere"]
        await boss.send_rebind_code(rebind.id, "otp_new")
        await boss.record_rebind_factor(rebind.id, FactorCreate(kind="otp_new", code=await outbox_code(boss)))
        await boss.send_rebind_code(rebind.id, "otp_old")
        assert (await boss.sms_outbox(limit=1)).items[0].to == "138****8000"
        rebind = await boss.record_rebind_factor(rebind.id, FactorCreate(kind="otp_old", code=await outbox_code(boss)))
        assert rebind.decision.outcome == "needs_approval"
        waiting = await boss.complete_rebind(rebind.id)
        assert waiting.status is RebindStatus.AWAITING_APPROVAL
        assert "awaiting-approval" in (await boss.get_case(setup.case)).tags
        with pytest.raises(Forbidden) as own:
            await boss.approve_rebind(rebind.id)
        assert own.value.problem.model_extra["rule"] == "four_eyes"
        assert "another supervisor" in (own.value.problem.detail or "")
    async with clients(app, setup.tokens["agent"]) as (agent, _):
        with pytest.raises(Forbidden) as agent_refused:
            await agent.approve_rebind(rebind.id)
        assert agent_refused.value.problem.model_extra["permission"] == "rebind.approve"
    async with clients(app, setup.tokens["boss2"]) as (boss2, _):
        done = await boss2.approve_rebind(rebind.id)
        assert done.status is RebindStatus.COMPLETED and done.approved_by == "boss2" and done.requested_by == "boss"
        assert "awaiting-approval" not in (await boss2.get_case(setup.case)).tags
        with pytest.raises(Conflict):
            await boss2.approve_rebind(rebind.id)
    async with clients(app, setup.tokens["admin"]) as (admin, _):
        actions = [(r.action, r.actor) for r in (await admin.audit(case=setup.case)).items]
        assert ("rebind_approved", "boss2") in actions and ("rebind", "boss2") in actions


async def test_codes_expire_exhaust_and_resend_at_most_once_a_minute(setup: Setup) -> None:
    clock = Clock()
    async with clients(app_for(setup.desk, clock), setup.tokens["agent"]) as (agent, raw):
        first = await raw.post(f"/cases/{setup.case}/rebinds", json={"phone": NEW}, headers={"Idempotency-Key": "k1"})
        again = await raw.post(f"/cases/{setup.case}/rebinds", json={"phone": NEW}, headers={"Idempotency-Key": "k1"})
        assert first.status_code == again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
        assert first.json()["id"] == again.json()["id"] and national_digits(NEW) not in first.text
        rebind = await agent.get_rebind(first.json()["id"])
        await agent.send_rebind_code(rebind.id, "otp_new")
        with pytest.raises(RateLimited) as soon:
            await agent.send_rebind_code(rebind.id, "otp_new")
        assert soon.value.retry_after == 60
        clock.now += timedelta(minutes=5, seconds=1)
        with pytest.raises(ValidationFailed) as expired:
            await agent.record_rebind_factor(rebind.id, FactorCreate(kind="otp_new", code=await outbox_code(agent)))
        assert "expired" in expired.value.field_errors[0].message

        await agent.send_rebind_code(rebind.id, "otp_new")
        code = await outbox_code(agent)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for left in (4, 3, 2, 1):
            with pytest.raises(ValidationFailed) as miss:
                await agent.record_rebind_factor(rebind.id, FactorCreate(kind="otp_new", code=wrong))
            assert f"{left} attempt" in miss.value.field_errors[0].message
        with pytest.raises(Conflict):
            await agent.record_rebind_factor(rebind.id, FactorCreate(kind="otp_new", code=wrong))
        with pytest.raises(Conflict):  # exhausted: even the right code no longer works
            await agent.record_rebind_factor(rebind.id, FactorCreate(kind="otp_new", code=code))
        rebind = await agent.get_rebind(rebind.id)
        assert [(f.kind, f.passed) for f in rebind.factors] == [("otp_new", False)]
        cancelled = await agent.cancel_rebind(rebind.id, "borrower hung up")
        assert cancelled.status is RebindStatus.CANCELLED
    with setup.desk.engine.connect() as conn:
        macs = conn.scalars(sa.text("SELECT code_mac FROM rebind_codes")).all()
    assert macs and all(len(m) == 64 and code not in m for m in macs)
