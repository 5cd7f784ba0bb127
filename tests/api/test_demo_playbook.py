"""The recycled-number playbook on the demo desk (SQLite and PostgreSQL): some of the
demo's open complaints are about a number still bound to a borrower, re-issued by the
carrier unnoticed, and on them the playbook runs its whole course — found, confirmed,
unbound, listed, followed up, replied."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from linkdesk.client import DeskClient
from linkdesk.domain.cases import CaseCategory
from linkdesk.domain.playbook import Step, StepStatus
from linkdesk.domain.refs import borrower_ref, case_ref
from linkdesk.domain.views import CaseQuery, CaseState
from linkdesk.server.crypto import aad
from linkdesk.server.data_keys import open_sealed
from linkdesk.server.demo import seed_demo

from .conftest import SEED_NOW, Desk
from .intel_helpers import Clock, app_for, clients, number_of


def unnoticed(desk: Desk) -> list[tuple[int, int, int]]:
    """(case, binding, borrower) of the open recycled-number complaints whose number is
    still bound: the case's sealed number is an active binding's number."""
    with desk.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT c.id, c.phone_enc, b.id AS binding_id, b.borrower_id FROM cases c "
            "JOIN phone_bindings b ON b.phone_index = c.phone_index "
            "WHERE c.category = 'recycled_number' AND c.is_open AND b.status = 'active' ORDER BY c.id"
        )).all()
        found = []
        for row in rows:
            number = open_sealed(conn, desk.keyring, row.phone_enc, aad("cases", "phone_enc", row.id))
            if number == number_of(desk, row.binding_id):  # the index is a hash: confirm on the number
                found.append((row.id, row.binding_id, row.borrower_id))
    return found


@pytest.fixture
def demo(fresh: Desk) -> Iterator[Desk]:
    """The demo desk the ``seeded`` fixture makes, but this test's own (it writes)."""
    fresh.summary = seed_demo(fresh.engine, fresh.keyring, cases=200, borrowers=80, seed=42, now=SEED_NOW)
    yield fresh


def scalar(desk: Desk, sql: str, **params: object) -> object:
    with desk.engine.connect() as conn:
        return conn.scalar(sa.text(sql), params)


async def test_the_seeded_desk_has_open_complaints_about_numbers_still_bound(
    seeded: Desk, reader: DeskClient
) -> None:
    found = unnoticed(seeded)
    assert len(found) >= 3
    listed = await reader.list_cases(CaseQuery(state=CaseState.OPEN, category=CaseCategory.RECYCLED_NUMBER), limit=200)
    refs = {case.ref for case in listed.items}
    for case_id, _binding, borrower_id in found:
        assert case_ref(case_id) in refs
        case = await reader.get_case(case_ref(case_id))
        assert case.borrower is not None and case.borrower.ref == borrower_ref(borrower_id)
        state = await reader.playbook(case_ref(case_id))  # reading changes nothing
        assert state.next_step is Step.LOOKUP and {s.status for s in state.steps} == {StepStatus.PENDING}


async def test_the_playbook_runs_to_the_end_on_a_demo_complaint(demo: Desk) -> None:
    found = unnoticed(demo)
    case_id, binding_id, borrower_id = found[0]
    ref, binding = case_ref(case_id), f"P-{binding_id}"
    alerts = scalar(demo, "SELECT count(*) FROM cases WHERE category = 'risk_alert'")
    async with clients(app_for(demo, Clock())) as (client, _http):
        complaint = await client.get_case(ref)
        assert (await client.playbook(ref)).next_step is Step.LOOKUP

        progress = []
        for _ in range(10):
            state = await client.playbook_next(ref, language="zh_CN")
            progress.append({s.step: s.status for s in state.steps})
            if state.next_step is None:
                break
        assert len(progress) == 6 and all(status is StepStatus.DONE for status in progress[-1].values())
        done = await client.playbook(ref)
        assert done.finished and done.stopped is None and done.binding == binding and done.follow_up
        steps = {s.step: s for s in done.steps}
        assert binding in steps[Step.LOOKUP].detail and "re-issued to a new holder" in steps[Step.CONFIRM].detail

        # the binding ended as reassigned
        assert scalar(demo, "SELECT status FROM phone_bindings WHERE id = :b", b=binding_id) == "reassigned"
        assert scalar(demo, "SELECT unbound_at FROM phone_bindings WHERE id = :b", b=binding_id) is not None
        unbinds = [r for r in (await client.audit(action="unbind")).items if r.target == binding]
        assert [(r.case, r.reason) for r in unbinds] == [(ref, "reassigned")]
        # the number is on the do-not-contact list, once
        entries = [e for e in (await client.do_not_contact(limit=200)).items if e.phone == complaint.phone]
        assert [e.reason for e in entries] == ["reassigned"]
        # a follow-up for the borrower, without the number, linked both ways
        follow_up = await client.get_case(done.follow_up)
        assert follow_up.category == "unreachable" and follow_up.status == "new" and follow_up.phone is None
        assert follow_up.borrower is not None and follow_up.borrower.ref == borrower_ref(borrower_id)
        back = [e for e in (await client.list_events(done.follow_up)).items if e.kind == "playbook"]
        assert [e.data["complaint"] for e in back] == [ref]
        # the stranger got one public reply and the complaint is resolved
        timeline = (await client.list_events(ref, limit=200)).items
        replies = [e for e in timeline if e.kind == "comment" and e.data.get("template")]
        assert len(replies) == 1 and not replies[0].internal and ref in replies[0].body
        assert (await client.get_case(ref)).status == "resolved"
        # the confirmation opened no risk alert about the same re-issue
        assert scalar(demo, "SELECT count(*) FROM cases WHERE category = 'risk_alert'") == alerts

        # the other complaints about numbers still bound are as they were
        assert unnoticed(demo) == found[1:]
