"""The filter language over the API: each term against the rows themselves, paging with a
filter, bad terms as 422 problems that name them, and the bounded count."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkdesk.client import DeskClient
from linkdesk.domain.cases import CaseCategory, CaseCreate
from linkdesk.domain.refs import case_ref
from linkdesk.domain.views import CaseQuery
from linkdesk.server import listing
from linkdesk.server.tables import AgentRow, CaseRow

from .conftest import SEED_NOW, Desk, raw
from .test_listing import walk

OPEN = {"new", "open", "pending", "on_hold"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_SEED_DAY = datetime(2026, 11, 2, tzinfo=SHANGHAI)


@pytest.fixture
def at_seed_time(seeded: Desk) -> Iterator[None]:
    """The desk's clock at the seed's now, so that relative terms have fixed answers."""
    clock = seeded.app.state.clock
    seeded.app.state.clock = lambda: SEED_NOW
    yield
    seeded.app.state.clock = clock


def rows(desk: Desk) -> list[CaseRow]:
    with Session(desk.engine) as session:
        return list(session.scalars(select(CaseRow).order_by(CaseRow.updated_at.desc(), CaseRow.id.desc())))


def agent_id(desk: Desk, name: str) -> int:
    with Session(desk.engine) as session:
        return session.scalar(select(AgentRow.id).where(AgentRow.name == name))  # type: ignore[return-value]


def refs_where(desk: Desk, keep: Callable[[CaseRow], bool]) -> list[str]:
    return [case_ref(row.id) for row in rows(desk) if keep(row)]


def is_open(row: CaseRow) -> bool:
    return row.status in OPEN


def running(row: CaseRow) -> bool:
    """Open, and its SLA clock not paused (pending on the customer)."""
    return is_open(row) and row.sla_paused_at is None


def due_before(row: CaseRow, at: datetime) -> bool:
    """The resolution, or a first response not yet given, falls due before ``at``."""
    first = row.first_responded_at is None and row.first_response_due_at is not None
    return row.sla_due_at < at or (first and row.first_response_due_at < at)  # type: ignore[operator]


CASES: list[tuple[str, Callable[[Desk], Callable[[CaseRow], bool]]]] = [
    ("status:pending", lambda d: lambda r: r.status == "pending"),
    ("status:new,resolved", lambda d: lambda r: r.status in ("new", "resolved")),
    ("status:done", lambda d: lambda r: r.status in ("resolved", "closed")),
    ("-status:new", lambda d: lambda r: is_open(r) and r.status != "new"),
    ("cat:rec", lambda d: lambda r: is_open(r) and r.category == "recycled_number"),
    ("-cat:rebind,exposure", lambda d: lambda r: is_open(r) and r.category not in ("rebind", "exposure")),
    ("prio:>=high", lambda d: lambda r: is_open(r) and r.priority in ("urgent", "high")),
    ("prio:low -prio:low", lambda d: lambda r: False),
    ("risk:>=60", lambda d: lambda r: is_open(r) and r.risk_score is not None and r.risk_score >= 60),
    ("risk:<30", lambda d: lambda r: is_open(r) and r.risk_score is not None and r.risk_score < 30),
    ("assignee:none", lambda d: lambda r: is_open(r) and r.assignee_id is None),
    ("assignee:me,wangfang", lambda d: lambda r: is_open(r) and r.assignee_id in (
        agent_id(d, "local"), agent_id(d, "wangfang"))),
    ("-assignee:wangfang", lambda d: lambda r: is_open(r) and r.assignee_id != agent_id(d, "wangfang")),
    ("sla:breached", lambda d: lambda r: running(r) and due_before(r, SEED_NOW)),
    ("sla:today", lambda d: lambda r: running(r) and due_before(r, END_OF_SEED_DAY)),
    ("sla:paused", lambda d: lambda r: is_open(r) and r.sla_paused_at is not None),
    ("tag:vip", lambda d: lambda r: is_open(r) and "vip" in r.tags),
    ("tag:vip tag:复核", lambda d: lambda r: is_open(r) and {"vip", "复核"} <= set(r.tags)),
    ("-tag:vip status:done", lambda d: lambda r: r.status in ("resolved", "closed") and "vip" not in r.tags),
    ("created:<2026-10-20", lambda d: lambda r: is_open(r) and r.created_at < datetime(2026, 10, 20, tzinfo=SHANGHAI)),
    ("created:2026-10-20..2026-10-25", lambda d: lambda r: is_open(r) and datetime(
        2026, 10, 20, tzinfo=SHANGHAI) <= r.created_at < datetime(2026, 10, 26, tzinfo=SHANGHAI)),
    ("updated:>-3d", lambda d: lambda r: is_open(r) and r.updated_at >= SEED_NOW - timedelta(days=3)),
    ("created:-2w..-1w", lambda d: lambda r: is_open(r) and SEED_NOW - timedelta(weeks=2) <= r.created_at
     < SEED_NOW - timedelta(weeks=1)),
]


@pytest.mark.parametrize(("text", "predicate"), CASES, ids=[text for text, _ in CASES])
async def test_each_term_filters_and_pages_consistently(
    seeded: Desk, reader: DeskClient, at_seed_time: None, text: str, predicate
) -> None:
    want = refs_where(seeded, predicate(seeded))
    got = await walk(reader, CaseQuery(filter=text), limit=7)  # many pages: keyset stays exact
    assert got == want
    count = await reader.count_cases(CaseQuery(filter=text))
    assert (count.count, count.capped) == (len(want), False)


async def test_terms_and_text_combine_and_the_structured_params_still_apply(
    seeded: Desk, reader: DeskClient, at_seed_time: None
) -> None:
    everything = rows(seeded)
    last4 = next(r.phone_last4 for r in everything if r.phone_last4 and is_open(r))
    want = refs_where(seeded, lambda r: is_open(r) and r.phone_last4 == last4 and r.priority != "low")
    assert await walk(reader, CaseQuery(filter=f"phone:{last4} -prio:low"), limit=3) == want
    both = await walk(reader, CaseQuery(category=CaseCategory.REBIND, filter="prio:urgent,high"))
    assert both == refs_where(seeded, lambda r: is_open(r) and r.category == "rebind"
                              and r.priority in ("urgent", "high"))


async def test_a_whole_number_is_found_by_its_blind_index(fresh: Desk, client: DeskClient) -> None:
    case = await client.create_case(CaseCreate(category="rebind", subject="换号", phone="13812345678"))
    await client.create_case(CaseCreate(category="rebind", subject="other", phone="13912345678"))
    found = await client.list_cases(CaseQuery(filter='phone:"+86 138-1234-5678"'))
    assert [item.ref for item in found.items] == [case.ref]
    assert len((await client.list_cases(CaseQuery(filter="phone:5678"))).items) == 2


@pytest.mark.parametrize(
    ("text", "term", "start"),
    [
        ("换号 cat:nope", "cat:nope", 3),
        ("foo:bar", "foo:bar", 0),
        ("prio:urgent risk:>=101", "risk:>=101", 12),
        ("status:open created:2026-02-30", "created:2026-02-30", 12),
    ],
)
async def test_a_bad_term_is_a_422_that_names_it(seeded: Desk, text: str, term: str, start: int) -> None:
    async with raw(seeded) as http:
        for path in ("/cases", "/cases/count"):
            response = await http.get(path, params={"filter": text})
            assert response.status_code == 422
            problem = response.json()
            assert problem["type"] == "urn:linkdesk:problem:validation"
            assert (problem["term"], problem["start"], problem["end"]) == (term, start, start + len(term))
            assert term in problem["detail"] and problem["errors"][0]["field"] == "filter"


@pytest.mark.parametrize("text", ["phone:1381234567x", "phone:12345678901"])
async def test_a_bad_number_is_refused_without_echoing_it(seeded: Desk, text: str) -> None:
    async with raw(seeded) as http:
        response = await http.get("/cases", params={"filter": text})
    assert response.status_code == 422
    assert "1234567" not in response.text and "phone:" in response.text


async def test_counts_stop_at_the_cap(seeded: Desk, reader: DeskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "COUNT_CAP", 10)
    for text in ("tag:vip status:active,done", "assignee:none"):
        count = await reader.count_cases(CaseQuery(filter=text))
        assert (count.count, count.capped) == (10, True)
