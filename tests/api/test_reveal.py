"""Reveal: the value once, for an open case's linked subject, with a reason, recorded
before it is answered; refused (and nothing recorded) otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from linkdesk.domain.refs import case_ref
from linkdesk.server.app import create_app
from linkdesk.server.crypto import aad
from linkdesk.server.data_keys import open_sealed
from linkdesk.server.db import make_session_factory
from linkdesk.server.demo import seed_demo
from linkdesk.server.tables import AuditRow, BindingRow, BorrowerRow, CaseRow

from .conftest import SEED_NOW, Desk, raw

NOTE = "caller confirmed birth date and address"


class Clock:
    def __init__(self) -> None:
        self.now = SEED_NOW + timedelta(days=1)

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


@dataclass
class World:
    desk: Desk
    clock: Clock
    case: str
    case_id: int
    borrower_id: int
    other_binding: str
    phone: str
    name: str
    id_number: str
    closed_case: str


@pytest.fixture
def world(fresh: Desk) -> Iterator[World]:
    seed_demo(fresh.engine, fresh.keyring, cases=60, borrowers=20, seed=5, now=SEED_NOW)
    clock = Clock()
    fresh.app = create_app(fresh.app.state.settings, engine=fresh.engine, keyring=fresh.keyring, clock=clock)
    with make_session_factory(fresh.engine)() as session:
        case = session.scalars(
            select(CaseRow).join(BorrowerRow, BorrowerRow.id == CaseRow.borrower_id)
            .where(CaseRow.is_open.is_(True), CaseRow.phone_enc.is_not(None),
                   BorrowerRow.id_number_enc.is_not(None))
            .order_by(CaseRow.id).limit(1)
        ).one()
        borrower = session.get(BorrowerRow, case.borrower_id)
        assert borrower is not None
        stranger = session.scalar(
            select(BindingRow.id).where(BindingRow.borrower_id != case.borrower_id).limit(1)
        )
        closed = session.scalar(
            select(CaseRow.id).where(CaseRow.is_open.is_(False), CaseRow.borrower_id.is_not(None)).limit(1)
        )
        k = fresh.keyring
        yield World(
            desk=fresh, clock=clock, case=case_ref(case.id), case_id=case.id,
            borrower_id=borrower.id, other_binding=f"P-{stranger}",
            phone=open_sealed(session, k, case.phone_enc, aad("cases", "phone_enc", case.id)),
            name=open_sealed(session, k, borrower.name_enc, aad("borrowers", "name_enc", borrower.id)),
            id_number=open_sealed(session, k, borrower.id_number_enc, aad("borrowers", "id_number_enc", borrower.id)),
            closed_case=case_ref(closed),
        )


def audit_count(desk: Desk, action: str | None = None) -> int:
    with make_session_factory(desk.engine)() as session:
        stmt = select(func.count()).select_from(AuditRow)
        if action:
            stmt = stmt.where(AuditRow.action == action)
        return session.scalar(stmt) or 0


def body(field: str, **more: str) -> dict[str, str]:
    return {"field": field, "reason": "borrower_on_line", "note": NOTE} | more


async def test_reveal_answers_each_field_once_and_records_it(world: World) -> None:
    async with raw(world.desk) as http:
        answers = {}
        for field in ("phone", "name", "id_number"):
            response = await http.post(f"/cases/{world.case}/reveal", json=body(field))
            assert response.status_code == 200, response.text
            assert response.headers["cache-control"] == "no-store"
            answers[field] = response.json()
        assert [answers[f]["value"] for f in ("phone", "name", "id_number")] == [
            world.phone, world.name, world.id_number
        ]
        assert answers["phone"]["display_seconds"] == 30
        records = (await http.get("/audit", params={"action": "reveal"})).json()["items"]
        assert [r["seq"] for r in records][::-1] == [answers[f]["audit_seq"] for f in ("phone", "name", "id_number")]
        assert {(r["target"].split(".")[-1], r["case"], r["reason"], r["detail"]["note"]) for r in records} == {
            (f, world.case, "borrower_on_line", NOTE) for f in ("phone", "name", "id_number")
        }
        timeline = (await http.get(f"/cases/{world.case}/events", params={"limit": 200})).json()["items"]
        reveals = [e for e in timeline if e["kind"] == "reveal"]
        assert [e["data"]["field"] for e in reveals] == ["phone", "name", "id_number"]
        assert all(e["internal"] for e in reveals)
        # the value is in no other answer
        others = (await http.get("/audit")).text + str(timeline) + (await http.get(f"/cases/{world.case}")).text
        assert world.phone not in others and world.id_number not in others and world.name not in others


async def test_a_binding_of_the_borrower_can_be_revealed_but_not_a_strangers(world: World) -> None:
    with make_session_factory(world.desk.engine)() as session:
        own = session.scalars(select(BindingRow).where(BindingRow.borrower_id == world.borrower_id)).first()
        assert own is not None
        own_value = open_sealed(session, world.desk.keyring, own.phone_enc, aad("phone_bindings", "phone_enc", own.id))
    async with raw(world.desk) as http:
        ok = await http.post(f"/cases/{world.case}/reveal", json=body("phone", binding=f"P-{own.id}"))
        assert ok.status_code == 200 and ok.json()["value"] == own_value
        before = audit_count(world.desk)
        refused = await http.post(f"/cases/{world.case}/reveal", json=body("phone", binding=world.other_binding))
        assert refused.status_code == 422
        assert refused.json()["type"] == "urn:linkdesk:problem:not-linked"
        assert refused.json()["errors"][0]["field"] == "binding"
        assert "value" not in refused.json()
        assert audit_count(world.desk) == before


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"field": "phone", "note": NOTE}, "reason"),
        ({"field": "phone", "reason": "borrower_on_line"}, "note"),
        ({"field": "phone", "reason": "borrower_on_line", "note": "ok"}, "note"),
        ({"field": "phone", "reason": "curiosity", "note": NOTE}, "reason"),
        ({"field": "salary", "reason": "borrower_on_line", "note": NOTE}, "field"),
    ],
)
async def test_a_reveal_without_a_good_reason_is_refused_and_not_recorded(world: World, payload, field) -> None:  # type: ignore[no-untyped-def]
    before = audit_count(world.desk)
    async with raw(world.desk) as http:
        response = await http.post(f"/cases/{world.case}/reveal", json=payload)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    assert audit_count(world.desk) == before


async def test_a_closed_case_reveals_nothing(world: World) -> None:
    before = audit_count(world.desk)
    async with raw(world.desk) as http:
        response = await http.post(f"/cases/{world.closed_case}/reveal", json=body("name"))
        missing = await http.post("/cases/LD-999999/reveal", json=body("name"))
    assert response.status_code == 409
    assert response.json()["type"] == "urn:linkdesk:problem:case-closed"
    assert missing.status_code == 404
    assert audit_count(world.desk) == before


async def test_reveals_are_limited_per_agent_per_hour(world: World) -> None:
    async with raw(world.desk) as http:
        assert (await http.patch("/desk/settings", json={"reveal_limit_per_hour": 2})).status_code == 200
        for _ in range(2):
            assert (await http.post(f"/cases/{world.case}/reveal", json=body("phone"))).status_code == 200
            world.clock.now += timedelta(minutes=10)
        limited = await http.post(f"/cases/{world.case}/reveal", json=body("phone"))
        assert limited.status_code == 429
        assert limited.json()["type"] == "urn:linkdesk:problem:rate-limited"
        assert 0 < int(limited.headers["retry-after"]) <= 40 * 60
        assert "value" not in limited.json()
        world.clock.now += timedelta(seconds=int(limited.headers["retry-after"]))
        assert (await http.post(f"/cases/{world.case}/reveal", json=body("phone"))).status_code == 200


async def test_a_tampered_value_is_reported_for_that_field_and_the_rest_still_works(world: World) -> None:
    with world.desk.engine.begin() as conn:
        blob = conn.execute(select(BorrowerRow.name_enc).where(BorrowerRow.id == world.borrower_id)).scalar_one()
        flipped = blob[:-1] + bytes([blob[-1] ^ 1])
        conn.execute(text("UPDATE borrowers SET name_enc = :b WHERE id = :i"), {"b": flipped, "i": world.borrower_id})
    async with raw(world.desk) as http:
        broken = await http.post(f"/cases/{world.case}/reveal", json=body("name"))
        assert broken.status_code == 409
        problem = broken.json()
        assert problem["type"] == "urn:linkdesk:problem:undecryptable" and problem["field"] == "name"
        assert "does not authenticate" in problem["detail"]
        assert (await http.post(f"/cases/{world.case}/reveal", json=body("id_number"))).json()["value"] == world.id_number
        assert (await http.get(f"/cases/{world.case}")).status_code == 200
        assert (await http.get("/cases", params={"state": "all", "limit": 200})).status_code == 200
        failed = (await http.get("/audit", params={"action": "reveal_failed"})).json()["items"]
        assert [r["target"] for r in failed] == [f"B-{world.borrower_id:06d}.name"]


async def test_sign_in_and_settings_changes_are_recorded(world: World) -> None:
    async with raw(world.desk) as http:
        me = (await http.post("/sessions", json={"client": "console 1.0\x1b[2J over ssh"})).json()
        assert me["name"] == "local" and "audit.read" in me["permissions"]
        bad = await http.patch("/desk/settings", json={"reveal_display_seconds": 1})
        assert bad.status_code == 422
        changed = await http.patch("/desk/settings", json={"reveal_display_seconds": 45})
        assert changed.json()["reveal_display_seconds"] == 45
        assert (await http.get("/desk/settings")).json()["reveal_display_seconds"] == 45
        records = (await http.get("/audit")).json()["items"]
    assert [(r["action"], r["target"]) for r in records[:2]] == [
        ("settings_change", "desk.settings.reveal_display_seconds"),
        ("login", "agent:local"),
    ]
    assert records[0]["detail"] == {"from": 30, "to": 45}
    assert "\x1b" not in records[1]["detail"]["client"]


async def test_agents_are_administered_through_the_api_and_recorded(world: World) -> None:
    async with raw(world.desk) as http:
        added = await http.post("/agents", json={"name": "li.na", "display_name": "李娜", "role": "agent"})
        assert added.status_code == 201 and added.json()["token"].startswith("ld_")
        token = added.json()["token"]
        assert (await http.post("/agents", json={"name": "li.na"})).status_code == 409
        assert (await http.post("/agents", json={"name": "Bad Name!"})).status_code == 422
        async with raw(world.desk, token) as li:
            assert (await li.get("/me")).json()["permissions"] == [
                "agents.read", "cases.comment", "cases.create", "cases.read", "cases.update",
                "contact.call", "contact.log", "intel.check", "rebind.start", "reveal.name", "reveal.phone",
            ]
            assert (await http.patch("/agents/li.na", json={"role": "compliance"})).json()["role"] == "compliance"
            assert "audit.read" in (await li.get("/me")).json()["permissions"]
            assert (await http.patch("/agents/li.na", json={"active": False})).status_code == 200
            assert (await li.get("/me")).status_code == 401
        last_admin = await http.patch("/agents/local", json={"role": "agent"})
        assert last_admin.status_code == 422 and "last active admin" in last_admin.text
        actions = [(r["action"], r["target"]) for r in (await http.get("/audit")).json()["items"]]
    assert actions[:3] == [
        ("agent_disabled", "agent:li.na"), ("role_change", "agent:li.na"), ("agent_added", "agent:li.na")
    ]


async def test_a_lone_surrogate_is_a_422_and_records_nothing(world: World) -> None:
    before = audit_count(world.desk)
    payload = '{"field": "phone", "reason": "legal_request", "note": "court order \\ud800"}'
    async with raw(world.desk) as http:
        response = await http.post(
            f"/cases/{world.case}/reveal", content=payload, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "note"
    assert audit_count(world.desk) == before
