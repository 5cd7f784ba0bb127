"""The recycled-number playbook over the API (SQLite and PostgreSQL): a full run, a run
repeated after it finished, a number the sandbox says was not re-issued, a number no
borrower holds, and a reply that gives nothing of the borrower away."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from linkdesk.client import DeskClient
from linkdesk.client.errors import CaseClosed, Conflict
from linkdesk.domain.borrowers import mask_name
from linkdesk.domain.cases import CaseCreate, CasePatch
from linkdesk.domain.phones import last_four, mask
from linkdesk.domain.playbook import Step, StepStatus
from linkdesk.domain.refs import borrower_ref
from linkdesk.intel.sandbox import Lifecycle, register
from linkdesk.server.crypto import aad
from linkdesk.server.db import make_session_factory
from linkdesk.server.tables import BindingRow, BorrowerRow

from .conftest import SEED_NOW, Desk
from .intel_helpers import Clock, DownProvider, app_for, clients

NUMBER = "+8613912345678"
NAME = "钱多多"
BOUND_AT = SEED_NOW - timedelta(days=400)


def bind(desk: Desk, e164: str = NUMBER, *, reissued: bool = True) -> tuple[int, int]:
    """A borrower bound to ``e164`` 400 days ago, and the sandbox's history of the number:
    re-issued to a new holder 30 days ago (or held all along). (borrower, binding) ids."""
    keyring = desk.keyring
    with make_session_factory(desk.engine)() as session, session.begin():
        borrower = BorrowerRow(name_masked=mask_name(NAME), created_at=BOUND_AT, key_version=keyring.writing_version())
        session.add(borrower)
        session.flush()
        borrower.name_enc = keyring.encrypt(NAME, aad("borrowers", "name_enc", borrower.id))
        binding = BindingRow(borrower_id=borrower.id, phone_index=keyring.blind_index(e164), phone_masked=mask(e164),
                             last4=last_four(e164), status="active", bound_at=BOUND_AT,
                             key_version=keyring.writing_version())
        session.add(binding)
        session.flush()
        binding.phone_enc = keyring.encrypt(e164, aad("phone_bindings", "phone_enc", binding.id))
        register(session, keyring, e164, Lifecycle(
            activated_at=BOUND_AT - timedelta(days=900),
            cancelled_at=SEED_NOW - timedelta(days=90) if reissued else None,
            reissued_at=SEED_NOW - timedelta(days=30) if reissued else None,
        ))
        return borrower.id, binding.id


async def complaint(client: DeskClient, phone: str = "139 1234 5678") -> str:
    case = await client.create_case(CaseCreate(
        category="recycled_number", subject="总有人打电话找别人还钱", body="来电人称不认识借款人", phone=phone))
    return case.ref


def rows(desk: Desk, sql: str, **params: object) -> list[sa.Row]:
    with desk.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


async def run_all(client: DeskClient, ref: str, *, language: str = "en") -> list[dict[Step, StepStatus]]:
    """Press ``next`` until nothing is next; the statuses after each step."""
    seen = []
    for _ in range(10):
        state = await client.playbook_next(ref, language=language)
        seen.append({s.step: s.status for s in state.steps})
        if state.next_step is None:
            return seen
    raise AssertionError("the playbook never ended")


async def test_a_full_run_unbinds_lists_follows_up_and_replies_once(fresh: Desk) -> None:
    borrower_id, binding_id = bind(fresh)
    async with clients(app_for(fresh, Clock())) as (client, _http):
        ref = await complaint(client)
        state = await client.playbook(ref)
        assert state.next_step is Step.LOOKUP and {s.status for s in state.steps} == {StepStatus.PENDING}

        progress = await run_all(client, ref, language="zh_CN")
        assert len(progress) == 6 and all(status is StepStatus.DONE for status in progress[-1].values())
        assert [sum(s is StepStatus.DONE for s in p.values()) for p in progress] == [1, 2, 3, 4, 5, 6]
        done = await client.playbook(ref)
        assert done.finished and done.binding == f"P-{binding_id}" and done.follow_up

        # the binding ended as reassigned, in the audit chain with the case
        [(status, unbound_at)] = rows(fresh, "SELECT status, unbound_at FROM phone_bindings WHERE id = :b", b=binding_id)
        assert status == "reassigned" and unbound_at is not None
        unbinds = (await client.audit(action="unbind")).items
        assert [(r.target, r.case, r.reason) for r in unbinds] == [(f"P-{binding_id}", ref, "reassigned")]
        # on the do-not-contact list once
        entries = (await client.do_not_contact(limit=200)).items
        assert [(e.phone, e.case) for e in entries] == [(mask(NUMBER), ref)]
        # one follow-up for the borrower, without the complainant's number, linked both ways
        follow_up = await client.get_case(done.follow_up)
        assert follow_up.category == "unreachable" and follow_up.phone is None
        assert follow_up.borrower is not None and follow_up.borrower.ref == borrower_ref(borrower_id)
        assert "reassigned" in follow_up.subject
        back = [e for e in (await client.list_events(done.follow_up)).items if e.kind == "playbook"]
        assert [e.data["complaint"] for e in back] == [ref]
        timeline = (await client.list_events(ref, limit=200)).items
        assert any(e.kind == "playbook" and e.data.get("follow_up") == done.follow_up for e in timeline)
        assert [e.data["binding"] for e in timeline if e.kind == "unbind"] == [f"P-{binding_id}"]
        # one public reply, in the console's language; the case is resolved
        replies = [e for e in timeline if e.kind == "comment"]
        assert len(replies) == 1 and not replies[0].internal and ref in replies[0].body and "歉意" in replies[0].body
        assert (await client.get_case(ref)).status == "resolved"
        # the confirmation opened no second case (risk alert) about the same re-issue
        assert rows(fresh, "SELECT count(*) FROM cases WHERE category = 'risk_alert'")[0][0] == 0

        # pressing next again changes nothing
        counts = rows(fresh, "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_events), "
                             "(SELECT count(*) FROM do_not_contact), (SELECT count(*) FROM audit_records)")
        again = await client.playbook_next(ref)
        assert again == done
        assert rows(fresh, "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_events), "
                           "(SELECT count(*) FROM do_not_contact), (SELECT count(*) FROM audit_records)") == counts


async def test_a_number_not_reissued_stops_at_confirm(fresh: Desk) -> None:
    _borrower, binding_id = bind(fresh, reissued=False)
    async with clients(app_for(fresh, Clock())) as (client, _http):
        ref = await complaint(client)
        progress = await run_all(client, ref)
        assert progress[-1][Step.CONFIRM] is StepStatus.STOPPED and len(progress) == 2
        state = await client.playbook(ref)
        assert state.next_step is None and not state.finished and "not confirmed" in (state.stopped or "")
        assert all(state.steps[i].status is StepStatus.PENDING for i in range(2, 6))
        assert rows(fresh, "SELECT status FROM phone_bindings WHERE id = :b", b=binding_id) == [("active",)]
        assert rows(fresh, "SELECT count(*) FROM do_not_contact")[0][0] == 0
        assert (await client.playbook_next(ref)) == state


async def test_an_unavailable_provider_fails_confirm_and_it_can_be_retried(fresh: Desk) -> None:
    _borrower, binding_id = bind(fresh)
    async with clients(app_for(fresh, Clock(), provider=DownProvider())) as (client, _http):
        ref = await complaint(client)
        await client.playbook_next(ref)
        state = await client.playbook_next(ref)
        confirm = state.steps[1]
        assert confirm.status is StepStatus.FAILED and "circuit open" in confirm.detail
        assert state.next_step is Step.CONFIRM and state.stopped is None
        assert rows(fresh, "SELECT status FROM phone_bindings WHERE id = :b", b=binding_id) == [("active",)]
    async with clients(app_for(fresh, Clock())) as (client, _http):  # the provider is back
        state = await client.playbook_next(ref)
        assert state.steps[1].status is StepStatus.DONE and state.next_step is Step.UNBIND


async def test_no_borrower_bound_still_lists_the_number_and_replies(fresh: Desk) -> None:
    async with clients(app_for(fresh, Clock())) as (client, _http):
        ref = await complaint(client, "13700001111")
        progress = await run_all(client, ref)
        final = progress[-1]
        assert [final[s] for s in Step] == [StepStatus.DONE, StepStatus.SKIPPED, StepStatus.SKIPPED,
                                            StepStatus.DONE, StepStatus.SKIPPED, StepStatus.DONE]
        state = await client.playbook(ref)
        assert state.finished and "no borrower bound" in state.steps[0].detail
        entries = (await client.do_not_contact()).items
        assert [(e.phone, e.reason) for e in entries] == [("137****1111", "third_party_complaint")]
        assert [e.kind for e in (await client.list_events(ref)).items].count("comment") == 1
        assert rows(fresh, "SELECT count(*) FROM cases")[0][0] == 1  # no follow-up


async def test_the_reply_discloses_nothing_and_can_be_edited(fresh: Desk) -> None:
    borrower_id, binding_id = bind(fresh)
    async with clients(app_for(fresh, Clock())) as (client, _http):
        ref = await complaint(client)
        for _ in range(5):
            state = await client.playbook_next(ref, language="en")
        assert state.next_step is Step.REPLY
        preview = (await client.playbook(ref, language="en")).reply_preview or ""
        assert ref in preview and "no longer be contacted" in preview
        secrets = [NAME, mask_name(NAME), borrower_ref(borrower_id), f"P-{binding_id}", NUMBER, mask(NUMBER),
                   NUMBER[-4:], NUMBER[3:], state.follow_up or "?"]
        for language in ("en", "zh_CN"):
            text = (await client.playbook(ref, language=language)).reply_preview or ""
            assert text and not [s for s in secrets if s in text], language
        await client.playbook_next(ref, reply="Sorry — you will not be called again. Ref " + ref)
        [reply] = [e for e in (await client.list_events(ref)).items if e.kind == "comment"]
        assert reply.body == "Sorry — you will not be called again. Ref " + ref


async def test_refused_on_other_categories_and_closed_cases(fresh: Desk) -> None:
    async with clients(app_for(fresh, Clock())) as (client, _http):
        other = await client.create_case(CaseCreate(category="unreachable", subject="空号"))
        with pytest.raises(Conflict):
            await client.playbook_next(other.ref)
        with pytest.raises(Conflict):
            await client.playbook(other.ref)
        ref = await complaint(client)
        case = await client.get_case(ref)
        case = await client.update_case(ref, CasePatch(status="resolved"), version=case.version)
        await client.update_case(ref, CasePatch(status="closed"), version=case.version)
        with pytest.raises(CaseClosed):
            await client.playbook_next(ref)
        assert rows(fresh, "SELECT count(*) FROM case_events WHERE kind = 'playbook'")[0][0] == 0
