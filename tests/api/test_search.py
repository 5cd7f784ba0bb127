"""Text search against a Python substring truth over the seeded cases."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from linkdesk.client import DeskClient
from linkdesk.domain.refs import case_ref
from linkdesk.domain.views import CaseQuery, CaseState

from .conftest import Desk
from .test_listing import walk


@pytest.fixture(autouse=True, params=["few-matches", "index-walk"])
def search_plan(request, monkeypatch):
    """Both ways a search runs: fetching its few matches, or walking the inbox index and
    testing each row (what a common word does on a big desk)."""
    if request.param == "index-walk":
        monkeypatch.setattr("linkdesk.server.search.FEW_HITS", 0)
    return request.param


def rows(desk: Desk) -> list[sa.Row]:
    with desk.engine.connect() as conn:
        return conn.execute(sa.text("SELECT id, subject, body, phone_last4 FROM cases")).all()


def truth(desk: Desk, matches) -> set[str]:  # type: ignore[no-untyped-def]
    return {case_ref(r.id) for r in rows(desk) if matches(r)}


async def search(client: DeskClient, q: str) -> set[str]:
    refs = await walk(client, CaseQuery(state=CaseState.ALL, q=q), limit=40)
    assert len(refs) == len(set(refs))
    return set(refs)


@pytest.mark.parametrize("q", ["换号", "二次号", "号", "催", "无法联系"])
async def test_chinese_matches_substrings(seeded: Desk, reader: DeskClient, q: str) -> None:
    want = truth(seeded, lambda r: q in r.subject or q in r.body)
    assert want, f"the seed should contain {q}"
    assert await search(reader, q) == want


@pytest.mark.parametrize("q", ["refun", "Recycled", "borrower"])
async def test_english_matches_word_prefixes(seeded: Desk, reader: DeskClient, q: str) -> None:
    pattern = re.compile(r"(?<![0-9A-Za-z])" + re.escape(q), re.IGNORECASE)
    want = truth(seeded, lambda r: bool(pattern.search(r.subject) or pattern.search(r.body)))
    assert want
    assert await search(reader, q) == want


async def test_two_words_must_both_match(seeded: Desk, reader: DeskClient) -> None:
    want = truth(seeded, lambda r: all(w in r.subject + "\n" + r.body for w in ("换号", "核验")))
    assert await search(reader, "换号 核验") == want


async def test_case_ref_finds_that_case(reader: DeskClient) -> None:
    assert case_ref(17) in await search(reader, "LD-000017")
    assert await search(reader, "ld-17") == {case_ref(17)}


async def test_last_four_digits(seeded: Desk, reader: DeskClient) -> None:
    last4 = next(r.phone_last4 for r in rows(seeded) if r.phone_last4)
    want = truth(seeded, lambda r: r.phone_last4 == last4)
    assert await search(reader, last4) == want


async def test_nothing_searchable_finds_nothing(reader: DeskClient) -> None:
    assert await search(reader, "!!! ???") == set()
    assert await search(reader, "zzzqqq") == set()
