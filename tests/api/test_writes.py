"""Creates, idempotency, If-Match, transitions, validation, events and view counts."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from linkdesk.client import Conflict, DeskClient, NotFound, StaleVersion, ValidationFailed
from linkdesk.client.errors import BadRequest
from linkdesk.domain import CaseCreate, CasePatch, EventCreate
from linkdesk.domain.views import CaseQuery, CaseState
from linkdesk.server.demo import seed_demo

from .conftest import SEED_NOW, Desk, raw

NEW = CaseCreate(category="rebind", subject="借款人换号后无法联系", body="客户来电", phone="138 1234 5678")


def count_rows(desk: Desk, table: str = "cases") -> int:
    with desk.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


async def test_create_returns_the_case_with_location_and_etag(fresh: Desk) -> None:
    async with raw(fresh) as http:
        response = await http.post("/cases", json=NEW.model_dump(mode="json"))
    assert response.status_code == 201
    body = response.json()
    assert body["ref"] == "LD-000001" and body["status"] == "new" and body["version"] == 1
    assert body["phone"] == "138****5678"
    assert response.headers["location"] == "/api/v1/cases/LD-000001"
    assert response.headers["etag"] == '"1"'


async def test_create_attaches_the_borrower_of_an_active_binding(fresh: Desk, client: DeskClient) -> None:
    summary = seed_demo(fresh.engine, fresh.keyring, cases=5, borrowers=10, now=SEED_NOW)
    with fresh.engine.connect() as conn:
        active = conn.execute(sa.text(
            "SELECT id, borrower_id FROM phone_bindings WHERE status = 'active' ORDER BY id LIMIT 1"
        )).one()
    # the seeded numbers are in binding id order
    phone = summary.phones[active.id - 1]
    case = await client.create_case(CaseCreate(category="unreachable", subject="失联", phone=phone))
    assert case.borrower is not None and case.borrower.ref == f"B-{active.borrower_id:06d}"
    assert case.borrower.bindings and all("****" in b.phone.masked for b in case.borrower.bindings)
    bound = [b.bound_at for b in case.borrower.bindings]
    assert bound == sorted(bound, reverse=True)


async def test_idempotent_create(fresh: Desk, client: DeskClient) -> None:
    first = await client.create_case(NEW, idempotency_key="key-1")
    again = await client.create_case(NEW, idempotency_key="key-1")
    assert again == first
    async with raw(fresh) as http:
        replay = await http.post("/cases", json=NEW.model_dump(mode="json"), headers={"Idempotency-Key": "key-1"})
        assert replay.status_code == 201 and replay.headers["idempotency-replayed"] == "true"
        other = NEW.model_copy(update={"subject": "another subject"})
        conflict = await http.post("/cases", json=other.model_dump(mode="json"), headers={"Idempotency-Key": "key-1"})
    assert conflict.status_code == 422
    assert conflict.json()["type"] == "urn:linkdesk:problem:idempotency-conflict"
    assert count_rows(fresh) == 1


async def test_if_match_is_required_and_checked(fresh: Desk, client: DeskClient) -> None:
    case = await client.create_case(NEW)
    async with raw(fresh) as http:
        missing = await http.patch(f"/cases/{case.ref}", json={"priority": "high"})
        assert missing.status_code == 428
        assert missing.json()["type"] == "urn:linkdesk:problem:version-required"
    updated = await client.update_case(case.ref, CasePatch(priority="high"), version=case.version)
    assert updated.version == case.version + 1
    with pytest.raises(StaleVersion) as caught:
        await client.update_case(case.ref, CasePatch(priority="low", subject="x"), version=case.version)
    assert caught.value.current_version == updated.version
    unchanged = await client.get_case(case.ref)
    assert unchanged.priority == "high" and unchanged.subject == NEW.subject
    assert unchanged.version == updated.version


async def test_each_change_is_an_event(client: DeskClient) -> None:
    case = await client.create_case(NEW)
    await client.update_case(
        case.ref, CasePatch(status="open", priority="urgent", subject="新标题", assignee="local"), version=1
    )
    events = (await client.list_events(case.ref)).items
    assert [e.kind for e in events] == ["created", "status", "priority", "subject", "assignment"]
    assert events[1].data == {"from": "new", "to": "open"}
    assert events[4].data == {"from": None, "to": "local"}
    unassigned = await client.update_case(case.ref, CasePatch(assignee=None), version=2)
    assert unassigned.assignee is None and unassigned.version == 3


async def test_invalid_transition_is_409(client: DeskClient) -> None:
    case = await client.create_case(NEW)
    with pytest.raises(Conflict) as caught:
        await client.update_case(case.ref, CasePatch(status="closed"), version=case.version)
    assert caught.value.problem.type == "urn:linkdesk:problem:invalid-transition"
    assert (await client.get_case(case.ref)).status == "new"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "rebind", "subject": "s", "phone": "12345"}, "phone"),
        ({"category": "rebind", "subject": "s", "phone": "010 6552 9988"}, "phone"),
        ({"category": "rebind", "subject": "   "}, "subject"),
        ({"category": "lost_cat", "subject": "s"}, "category"),
        ({"category": "rebind", "subject": "s", "assignee": "ghost"}, "assignee"),
        ({"category": "rebind", "subject": "s", "borrower": "B-999999"}, "borrower"),
        ({"category": "rebind", "subject": "s", "surprise": 1}, "surprise"),
    ],
)
async def test_create_validation_names_the_field(fresh: Desk, body: dict, field: str) -> None:
    async with raw(fresh) as http:
        response = await http.post("/cases", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:linkdesk:problem:validation"
    assert field in [e["field"] for e in problem["errors"]]
    if "phone" in body:
        assert body["phone"] not in response.text  # a refused number is not echoed
    assert count_rows(fresh) == 0


async def test_events_comment_and_note(client: DeskClient) -> None:
    case = await client.create_case(NEW)
    comment = await client.add_event(case.ref, EventCreate(kind="comment", body="已联系客户"))
    note = await client.add_event(case.ref, EventCreate(kind="note", body="内部备注"))
    assert not comment.internal and note.internal and note.actor == "local"
    after = await client.get_case(case.ref)
    assert after.version == case.version + 2 and after.updated_at >= case.updated_at
    with pytest.raises(ValidationFailed) as caught:
        await client.add_event(case.ref, EventCreate(kind="status", body="x"))
    assert caught.value.field_errors[0].field == "kind"
    page = await client.list_events(case.ref, limit=2)
    rest = await client.list_events(case.ref, cursor=page.next_cursor, limit=2)
    assert [e.kind for e in page.items + rest.items] == ["created", "comment", "note"]
    assert rest.next_cursor is None


async def test_unknown_case_is_404(client: DeskClient) -> None:
    for ref in ("LD-999999", "nonsense"):
        with pytest.raises(NotFound):
            await client.get_case(ref)
    with pytest.raises(NotFound):
        await client.add_event("LD-000404", EventCreate(kind="comment", body="x"))


async def test_view_counts_follow_creates_and_updates(fresh: Desk, client: DeskClient) -> None:
    seed_demo(fresh.engine, fresh.keyring, cases=60, borrowers=20, now=SEED_NOW)
    a = await client.create_case(CaseCreate(category="exposure", subject="a", priority="urgent"))
    b = await client.create_case(CaseCreate(category="privacy_request", subject="b", assignee="me"))
    await client.update_case(a.ref, CasePatch(status="resolved", assignee="wangfang"), version=1)
    await client.update_case(b.ref, CasePatch(priority="urgent", assignee=None), version=1)
    views = {v.id: v for v in await client.views()}
    assert len(views) == 14
    for view in views.values():
        real = 0
        cursor = None
        while True:
            page = await client.list_cases(view.query, cursor=cursor, limit=200)
            real += len(page.items)
            if (cursor := page.next_cursor) is None:
                break
        assert view.count == real, view.id
    with fresh.engine.connect() as conn:
        tallied = dict(conn.execute(sa.text(
            "SELECT category || '/' || status || '/' || priority || '/' || assignee_id, n FROM case_tallies WHERE n != 0"
        )).all())
        actual = Counter(
            f"{r[0]}/{r[1]}/{r[2]}/{r[3] or 0}"
            for r in conn.execute(sa.text("SELECT category, status, priority, assignee_id FROM cases"))
        )
    assert tallied == dict(actual)
    assert views["open"].count == await _open_count(client)


async def _open_count(client: DeskClient) -> int:
    page = await client.list_cases(CaseQuery(state=CaseState.OPEN), limit=200)
    return len(page.items)


async def test_bad_if_match_and_bad_cursor_on_events(client: DeskClient, fresh: Desk) -> None:
    case = await client.create_case(NEW)
    async with raw(fresh) as http:
        response = await http.patch(f"/cases/{case.ref}", json={"priority": "low"}, headers={"If-Match": "*"})
    assert response.status_code == 428
    with pytest.raises(BadRequest):
        await client.list_events(case.ref, cursor="eyJzIjoieCJ9")
