"""``/cases/{ref}/intel``: checking a case's numbers, scoring, the risk in the inbox, a
provider that is down, and the privacy of what comes back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from linkdesk.client import DeskClient
from linkdesk.client.errors import BadRequest
from linkdesk.domain.cases import CaseCreate
from linkdesk.domain.intel import IntelReport, LineStatus, Reassigned
from linkdesk.domain.phones import national_digits
from linkdesk.domain.refs import case_ref
from linkdesk.domain.views import CaseQuery, CaseSort, CaseState
from linkdesk.intel.sandbox import Lifecycle, change, register
from linkdesk.server import listing
from linkdesk.server.db import make_session_factory
from linkdesk.server.demo import seed_demo

from .conftest import SEED_NOW, Desk, raw
from .intel_helpers import (
    CHECK_AT,
    Clock,
    DownProvider,
    app_for,
    clean_active_bindings,
    clients,
    number_of,
)
from .test_listing import SORT_SQL, expected, walk
from .test_privacy import secrets_of


@pytest.fixture
def world(fresh: Desk) -> Iterator[Desk]:
    fresh.summary = seed_demo(fresh.engine, fresh.keyring, cases=120, borrowers=50, seed=11, now=SEED_NOW)
    yield fresh


def clean_case(desk: Desk) -> tuple[int, str]:
    """An active binding whose number looked fine at its last check, and an open case
    about it: (binding id, case ref)."""
    with desk.engine.connect() as conn:
        for binding_id, _borrower in clean_active_bindings(desk):
            case_id = conn.scalar(sa.text(
                "SELECT id FROM cases WHERE binding_id = :b AND is_open ORDER BY id LIMIT 1"), {"b": binding_id})
            if case_id is not None:
                return binding_id, case_ref(case_id)
    raise AssertionError("the demo desk has no clean binding with an open case")


def rows(desk: Desk, sql: str, **params: Any) -> list[Any]:
    with desk.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


async def test_checking_a_case_stores_report_and_assessment_and_updates_its_risk(world: Desk) -> None:
    binding_id, ref = clean_case(world)
    with make_session_factory(world.engine)() as session, session.begin():
        change(session, world.keyring, number_of(world, binding_id), virtual=True,
               ported_at=CHECK_AT - timedelta(days=10), carrier="China Unicom")
    reports_before = rows(world, "SELECT count(*) FROM intel_reports WHERE binding_id = :b", b=binding_id)[0][0]
    clock = Clock()
    async with clients(app_for(world, clock)) as (client, _http):
        before = {item.binding: item for item in await client.case_intel(ref)}
        assert before[f"P-{binding_id}"].report is not None  # the demo's first check
        items = await client.check_intel(ref)
        checked = {item.binding: item for item in items}[f"P-{binding_id}"]
        assert checked.report is not None and checked.assessment is not None
        assert checked.report.checked_at == CHECK_AT and checked.checked_at == CHECK_AT
        assert checked.report.virtual is True and checked.report.recent_port_or_swap is True
        codes = {signal.code for signal in checked.assessment.signals}
        assert {"virtual_number", "recent_port_or_swap"} <= codes
        assert checked.unavailable is None and checked.phone.masked.count("*") == 4

        # the inbox and the case carry the case's new risk
        case = await client.get_case(ref)
        scores = [i.assessment.score for i in items
                  if i.assessment and (str(i.status) == "active" or i.binding == f"P-{binding_id}")]
        assert case.risk == max(scores) >= checked.assessment.score
        listed = [c for c in (await client.list_cases(CaseQuery(state=CaseState.ALL), limit=200)).items if c.ref == ref]
        assert listed[0].risk == case.risk
        assert await client.case_intel(ref) == items  # what the check answered is what is kept
        events = (await client.list_events(ref, limit=200)).items
        intel_events = [e for e in events if e.kind == "intel" and e.data.get("binding") == f"P-{binding_id}"]
        assert intel_events and intel_events[-1].internal and intel_events[-1].data["score"] == checked.assessment.score

    stored = rows(world, "SELECT score, level FROM risk_assessments WHERE binding_id = :b", b=binding_id)
    assert stored == [(checked.assessment.score, str(checked.assessment.level))]
    assert rows(world, "SELECT count(*) FROM intel_reports WHERE binding_id = :b", b=binding_id)[0][0] == reports_before + 1


async def test_a_case_without_a_borrower_checks_its_own_number(world: Desk) -> None:
    number = "+8613700137000"
    with make_session_factory(world.engine)() as session, session.begin():
        register(session, world.keyring, number, Lifecycle(
            activated_at=SEED_NOW - timedelta(days=700), cancelled_at=SEED_NOW - timedelta(days=3)))
    async with clients(app_for(world, Clock())) as (client, _http):
        case = await client.create_case(CaseCreate(category="unreachable", subject="空号", phone="13700137000"))
        assert case.borrower is None and case.risk is None
        [item] = await client.check_intel(case.ref)
        assert item.binding is None and item.phone.ref == "case" and item.phone.masked == "137****7000"
        assert item.report is not None and item.report.reassigned == Reassigned.CANCELLED
        assert item.report.line_status == LineStatus.EMPTY
        assert item.assessment is not None and {"cancelled", "line_down"} <= {s.code for s in item.assessment.signals}
        assert (await client.get_case(case.ref)).risk == item.assessment.score


@pytest.mark.parametrize("few_hits", [None, 3], ids=["few-scored", "many-scored"])
async def test_risk_min_filters_with_keyset_pages(
    seeded: Desk, reader: DeskClient, monkeypatch: pytest.MonkeyPatch, few_hits: int | None
) -> None:
    if few_hits is not None:  # more matches than "few": the inbox index is walked instead
        monkeypatch.setattr(listing, "FEW_HITS", few_hits)
    for risk_min, state, where in [
        (60, CaseState.OPEN, "is_open AND risk_score >= 60"),
        (85, CaseState.ALL, "risk_score >= 85"),
        (0, CaseState.DONE, "NOT is_open AND risk_score IS NOT NULL"),
    ]:
        for sort in (CaseSort.UPDATED_DESC, CaseSort.DUE):
            query = CaseQuery(state=state, risk_min=risk_min, sort=sort)
            refs = await walk(reader, query, limit=9)
            assert refs == expected(seeded, where, SORT_SQL[sort])
            assert len(refs) > 9  # several pages
    page = await reader.list_cases(CaseQuery(risk_min=60), limit=5)
    assert all(item.risk is not None and item.risk >= 60 for item in page.items)
    with pytest.raises(BadRequest):  # a cursor is for its own risk_min
        await reader.list_cases(CaseQuery(risk_min=50), cursor=page.next_cursor)
    texts = await walk(reader, CaseQuery(state=CaseState.ALL, q="借款人", risk_min=60))
    assert texts and set(texts) <= set(await walk(reader, CaseQuery(state=CaseState.ALL, risk_min=60), limit=200))


async def test_risk_min_is_bounded(seeded: Desk) -> None:
    async with raw(seeded) as http:
        response = await http.get("/cases", params={"risk_min": 101})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "risk_min"


async def test_the_open_risk_alerts_view(seeded: Desk, reader: DeskClient) -> None:
    views = {view.id: view for view in await reader.views()}
    view = views["risk_alerts"]
    assert view.title == "Open risk alerts" and view.query == CaseQuery(category="risk_alert")
    truth = rows(seeded, "SELECT count(*) FROM cases WHERE is_open AND category = 'risk_alert'")[0][0]
    assert view.count == truth > 0


async def test_a_provider_that_is_down_gives_200_and_says_why(world: Desk) -> None:
    binding_id, ref = clean_case(world)
    down = DownProvider()
    async with clients(app_for(world, Clock(), provider=down)) as (client, http):
        before = {item.binding: item for item in await client.case_intel(ref)}
        risk_before = (await client.get_case(ref)).risk
        response = await http.post(f"/cases/{ref}/intel")
        assert response.status_code == 200
        items = {item["binding"]: item for item in response.json()["items"]}
        checked = items[f"P-{binding_id}"]
        assert checked["unavailable"] == "intel unavailable: aliyun: circuit open, retry in 60 s"
        # the last answer and its score stay, so the console shows them beside the reason
        assert checked["report"] == before[f"P-{binding_id}"].report.model_dump(mode="json")
        assert checked["assessment"] == before[f"P-{binding_id}"].assessment.model_dump(mode="json")
        assert down.calls >= 1
        assert (await client.get_case(ref)).risk == risk_before
        again = {item.binding: item for item in await client.case_intel(ref)}
        assert again[f"P-{binding_id}"].unavailable == checked["unavailable"]


class Broken:
    name = "twilio"

    async def check(self, e164: str, **_: Any) -> IntelReport:
        raise RuntimeError(f"cannot parse the answer for {e164}")

    async def aclose(self) -> None:
        return None


class Hanging:
    name = "twilio"

    def __init__(self) -> None:
        self.never = asyncio.Event()

    async def check(self, e164: str, **_: Any) -> IntelReport:
        await self.never.wait()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize(
    ("provider", "reason"),
    [(Broken, "intel unavailable: twilio: unexpected error (RuntimeError)"),
     (Hanging, "intel unavailable: twilio: no answer within 0.3 s")],
)
async def test_a_failing_or_hanging_provider_never_fails_the_request(
    world: Desk, caplog: pytest.LogCaptureFixture, provider: Any, reason: str
) -> None:
    caplog.set_level(logging.DEBUG)
    binding_id, ref = clean_case(world)
    async with clients(app_for(world, Clock(), provider=provider(), intel_timeout=0.3)) as (_client, http):
        response = await asyncio.wait_for(http.post(f"/cases/{ref}/intel"), timeout=30)
    assert response.status_code == 200
    item = {i["binding"]: i for i in response.json()["items"]}[f"P-{binding_id}"]
    assert item["unavailable"] == reason
    number = number_of(world, binding_id)
    assert number not in response.text + caplog.text and national_digits(number) not in response.text + caplog.text


async def test_a_number_found_reissued_goes_on_do_not_contact_once(world: Desk) -> None:
    [(case_id, binding_id)] = rows(world, "SELECT c.id, c.binding_id FROM cases c JOIN phone_bindings b ON "
                                          "b.id = c.binding_id WHERE c.category = 'recycled_number' "
                                          "ORDER BY c.id LIMIT 1")
    ref = case_ref(case_id)
    async with clients(app_for(world, Clock())) as (client, _http):
        before = await client.contact_check(ref)  # the demo's first check scored it already
        assert not before.allowed and before.rule == "stop_contact" and "re-issued" in before.detail
        for _ in range(2):
            items = {item.binding: item for item in await client.check_intel(ref)}
            checked = items[f"P-{binding_id}"]
            assert checked.report.reassigned == Reassigned.YES and checked.assessment.stop_contact
        masked = checked.phone.masked
        entries = [e for e in (await client.do_not_contact(limit=200)).items if e.binding == f"P-{binding_id}"]
        assert [(e.reason, e.phone, e.case) for e in entries] == [("reassigned", masked, ref)]
        added = [r for r in (await client.audit(action="dnc_added")).items if r.target == f"dnc:{entries[0].id}"]
        assert len(added) == 1 and added[0].detail["automatic"] is True and added[0].case == ref
        refused = await client.contact_check(ref)
        assert not refused.allowed and refused.rule == "do_not_contact"
        assert masked in refused.detail and "re-issued" in refused.detail


async def test_intel_answers_hold_no_personal_data(world: Desk, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = secrets_of(world)
    texts = []
    async with clients(app_for(world, Clock())) as (_client, http):
        listing_ = (await http.get("/cases", params={"state": "all", "limit": 200})).json()["items"]
        refs = [c["ref"] for c in listing_ if c["phone"]][:12]
        for ref in refs:
            texts.append((await http.get(f"/cases/{ref}/intel")).text)
            texts.append((await http.post(f"/cases/{ref}/intel")).text)
            texts.append((await http.post(f"/cases/{ref}/contact-check", json={})).text)
            texts.append((await http.get(f"/cases/{ref}/events", params={"limit": 200})).text)
        texts.append((await http.get("/do-not-contact", params={"limit": 200})).text)
        texts.append((await http.get("/audit", params={"limit": 200})).text)
        texts.append((await http.get("/cases", params={"state": "all", "limit": 200, "risk_min": 0})).text)
    blob = "\n".join(texts) + caplog.text
    assert '"assessment":{"score"' in blob.replace(" ", "") and "dnc_added" in blob  # there was something to see
    assert [s for s in secrets if s in blob] == []


EVIDENCE = {
    # category → the signals of which at least one shows on every such case's number
    "recycled_number": {"reassigned"},
    "unreachable": {"line_down", "cancelled"},
    "impersonation": {"identity_mismatch", "cancelled", "reassigned"},  # a cancelled number has no holder
    "rebind": {"repeated_rebinds"},
}


def test_the_demo_desk_has_evidence_for_every_category(world: Desk) -> None:
    import json

    found = rows(world, "SELECT c.category, c.risk_score, a.assessment, r.report FROM cases c "
                        "JOIN risk_assessments a ON a.binding_id = c.binding_id "
                        "JOIN intel_reports r ON r.binding_id = c.binding_id")
    by_category: dict[str, list[tuple[set[str], dict[str, Any]]]] = {}
    for category, risk, assessment, report in found:
        assessment = json.loads(assessment) if isinstance(assessment, str) else assessment
        report = json.loads(report) if isinstance(report, str) else report
        assert risk is not None and risk >= assessment["score"]
        by_category.setdefault(category, []).append(({s["code"] for s in assessment["signals"]}, report))
    for category, wanted in EVIDENCE.items():
        assert by_category[category], category
        for codes, report in by_category[category]:
            assert codes & wanted or (category == "unreachable" and report["line_status"] == "power_off"), category
    assert all(codes for codes, _ in by_category["risk_alert"])
    # the registry is only about the past of the seed
    later = rows(world, "SELECT count(*) FROM phone_bindings WHERE bound_at > :t OR unbound_at > :t",
                 t=SEED_NOW.replace(tzinfo=None))[0][0]
    assert later == 0
    with world.engine.connect() as conn:
        numbers = conn.scalar(sa.text("SELECT count(*) FROM number_lifecycle"))
        distinct = conn.scalar(sa.text("SELECT count(DISTINCT phone_index) FROM phone_bindings"))
    assert world.summary is not None and numbers == world.summary.numbers >= distinct  # one per number


async def test_the_configured_provider_is_built_and_wrapped(world: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    from linkdesk.intel.registry import build_provider
    from linkdesk.intel.resilient import ResilientProvider
    from linkdesk.server.app import create_app

    sessions = make_session_factory(world.engine)
    clock = Clock()
    sandbox = build_provider("sandbox", sessions, world.keyring, clock=clock)
    assert isinstance(sandbox, ResilientProvider) and sandbox.name == "sandbox"
    binding_id, _ref = clean_case(world)
    number = number_of(world, binding_id)
    first = await sandbox.check(number, reference_date=(SEED_NOW - timedelta(days=1)).date())
    with sessions() as session, session.begin():
        change(session, world.keyring, number, cancelled_at=CHECK_AT - timedelta(hours=1))
    second = await sandbox.check(number, reference_date=(SEED_NOW - timedelta(days=1)).date())
    assert (first.reassigned, second.reassigned) == (Reassigned.NO, Reassigned.CANCELLED)  # never a stale cache

    for name in ("ACCESS_KEY_ID", "ACCESS_KEY_SECRET", "AUTH_CODES"):
        monkeypatch.delenv(f"LINKDESK_ALIYUN_{name}", raising=False)
    settings = world.app.state.settings.model_copy(update={"intel_provider": "aliyun"})
    app = create_app(settings, engine=world.engine, keyring=world.keyring, clock=clock)
    async with clients(app) as (_client, http):
        response = await http.post(f"/cases/{_ref}/intel")
    assert response.status_code == 200
    reasons = {item["unavailable"] for item in response.json()["items"] if item["unavailable"]}
    assert reasons and all(r.startswith("intel unavailable: aliyun: aliyun is not configured: set LINKDESK_ALIYUN_")
                           for r in reasons)
