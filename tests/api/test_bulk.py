"""Bulk changes: one action on many cases, per-case outcomes, and the undo of the
agent's last bulk change (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from linkdesk.client import DeskClient
from linkdesk.client.errors import Conflict, ValidationFailed
from linkdesk.domain.agents import Role
from linkdesk.domain.bulk import BulkAction, BulkOutcome, UndoOutcome
from linkdesk.domain.cases import CaseCreate, CasePatch, CaseStatus
from linkdesk.domain.views import CaseQuery, CaseState
from linkdesk.server.agents import issue_token
from linkdesk.server.db import make_session_factory

from .conftest import Desk, raw


@dataclass
class Team:
    desk: Desk
    ana: DeskClient
    bo: DeskClient
    http: httpx.AsyncClient
    """Raw, as ana."""


@pytest.fixture
async def team(team_desk: Desk) -> AsyncIterator[Team]:
    with make_session_factory(team_desk.engine)() as session:
        ana = issue_token(session, "ana", "Ana", Role.AGENT)
        bo = issue_token(session, "bo", "Bo", Role.SUPERVISOR)
    transport = httpx.ASGITransport(app=team_desk.app)
    async with (
        team_desk.app.router.lifespan_context(team_desk.app),
        DeskClient("http://desk", token=ana, transport=transport) as ana_client,
        DeskClient("http://desk", token=bo, transport=transport) as bo_client,
        raw(team_desk, ana) as http,
    ):
        yield Team(team_desk, ana_client, bo_client, http)


async def _cases(client: DeskClient, n: int) -> list[str]:
    return [
        (await client.create_case(CaseCreate(category="unreachable", subject=f"cannot reach {i}"))).ref
        for i in range(n)
    ]


async def _close(client: DeskClient, ref: str) -> None:
    case = await client.get_case(ref)
    case = await client.update_case(ref, CasePatch(status=CaseStatus.RESOLVED), version=case.version)
    await client.update_case(ref, CasePatch(status=CaseStatus.CLOSED), version=case.version)


def _outcomes(change) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {r.ref: (str(r.outcome) if r.problem is None else f"{r.outcome}:{r.problem}") for r in change.results}


async def test_assign_status_tag_close_with_per_case_refusals(team: Team) -> None:
    one, two, done = await _cases(team.ana, 3)
    await _close(team.ana, done)

    assigned = await team.ana.bulk_change([one, two, done], BulkAction.ASSIGN, "bo")
    assert _outcomes(assigned) == {one: "changed", two: "changed", done: "refused:case-closed"}
    case = await team.ana.get_case(one)
    assert case.assignee is not None and case.assignee.name == "bo"
    timeline = (await team.ana.list_events(one)).items
    assert timeline[-1].kind == "assignment" and timeline[-1].data["bulk"] == assigned.id

    pending = await team.ana.bulk_change([one, two, done], BulkAction.STATUS, "pending")
    assert _outcomes(pending) == {one: "changed", two: "changed", done: "refused:invalid-transition"}
    assert "closed" in (pending.results[2].reason or "")

    tagged = await team.ana.bulk_change([one, two], BulkAction.TAG, "vip")
    assert tagged.count(BulkOutcome.CHANGED) == 2
    again = await team.ana.bulk_change([one], BulkAction.TAG, "vip")
    assert _outcomes(again) == {one: "unchanged"} and again.id is None
    await team.ana.bulk_change([two], BulkAction.UNTAG, "vip")
    assert (await team.ana.get_case(one)).tags == ["vip"]
    assert (await team.ana.get_case(two)).tags == []
    tags_event = (await team.ana.list_events(two)).items[-1]
    assert tags_event.kind == "tags" and tags_event.data["removed"] == "vip"

    open_before = {v.id: v.count for v in await team.ana.views()}
    closed = await team.ana.bulk_change([one, two, done], BulkAction.CLOSE)
    assert _outcomes(closed) == {one: "changed", two: "changed", done: "unchanged"}
    assert (await team.ana.get_case(one)).status is CaseStatus.CLOSED
    listed = await team.ana.list_cases(CaseQuery(state=CaseState.OPEN))
    assert {c.ref for c in listed.items}.isdisjoint({one, two})
    open_after = {v.id: v.count for v in await team.ana.views()}
    assert sum(open_before.values()) > sum(open_after.values())  # tallies moved with the change


async def test_bad_input_is_refused_and_changes_nothing(team: Team) -> None:
    (ref,) = await _cases(team.ana, 1)
    version = (await team.ana.get_case(ref)).version
    too_many = await team.http.post("/cases/bulk", json={"refs": [ref] * 501, "action": "close"})
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "refs"
    for body, field in [
        ({"refs": [ref], "action": "status", "value": "bogus"}, "value"),
        ({"refs": [ref], "action": "assign", "value": "nobody.here"}, "value"),
        ({"refs": [ref], "action": "tag"}, "value"),
        ({"refs": [ref, "not a ref"], "action": "close"}, "refs"),
    ]:
        response = await team.http.post("/cases/bulk", json=body)
        assert response.status_code == 422, body
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert (await team.ana.get_case(ref)).version == version


async def test_undo_restores_unless_changed_since_and_only_once(team: Team) -> None:
    refs = await _cases(team.ana, 3)
    first = refs[0]
    await team.ana.bulk_change(refs, BulkAction.ASSIGN, "me")
    change = await team.ana.bulk_change(refs, BulkAction.CLOSE)
    assert change.id is not None and change.count(BulkOutcome.CHANGED) == 3
    # someone reopens the first case meanwhile: undo must leave it alone
    case = await team.bo.get_case(first)
    await team.bo.update_case(first, CasePatch(status=CaseStatus.OPEN, priority="high"), version=case.version)

    with pytest.raises(Conflict, match="only the agent"):
        await team.bo.undo_bulk_change(change.id)
    undone = await team.ana.undo_bulk_change(change.id)
    assert {r.ref: r.outcome for r in undone.results} == {
        first: UndoOutcome.SKIPPED, refs[1]: UndoOutcome.RESTORED, refs[2]: UndoOutcome.RESTORED,
    }
    restored = await team.ana.get_case(refs[1])
    assert restored.status is CaseStatus.NEW and restored.assignee is not None
    assert (await team.ana.get_case(first)).priority == "high"
    with pytest.raises(Conflict, match="already undone"):
        await team.ana.undo_bulk_change(change.id)


async def test_only_the_last_bulk_change_can_be_undone(team: Team) -> None:
    refs = await _cases(team.ana, 2)
    older = await team.ana.bulk_change(refs, BulkAction.TAG, "first")
    newer = await team.ana.bulk_change(refs, BulkAction.TAG, "second")
    assert older.id and newer.id
    with pytest.raises(Conflict, match="last bulk change"):
        await team.ana.undo_bulk_change(older.id)
    await team.ana.undo_bulk_change(newer.id)
    assert (await team.ana.get_case(refs[0])).tags == ["first"]


async def test_idempotency_key_answers_the_first_result(team: Team) -> None:
    refs = await _cases(team.ana, 2)
    body = {"refs": refs, "action": "tag", "value": "dup"}
    headers = {"Idempotency-Key": "bulk-1"}
    first = await team.http.post("/cases/bulk", json=body, headers=headers)
    second = await team.http.post("/cases/bulk", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.headers.get("Idempotency-Replayed") == "true"
    assert second.json() == first.json()
    versions = {ref: (await team.ana.get_case(ref)).version for ref in refs}
    assert versions == {r["ref"]: r["version"] for r in first.json()["results"]}
    other = await team.http.post("/cases/bulk", json=body | {"value": "other"}, headers=headers)
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-conflict")
    with pytest.raises(ValidationFailed):
        await team.ana.bulk_change(refs, BulkAction.STATUS, "bogus")
