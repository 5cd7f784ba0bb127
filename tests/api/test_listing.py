"""Keyset pages and filters, checked against a direct ORDER BY over every row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from linkdesk.client import DeskClient
from linkdesk.client.errors import BadRequest
from linkdesk.domain.refs import case_ref
from linkdesk.domain.views import CaseQuery, CaseSort, CaseState

from .conftest import Desk, raw

SORT_SQL = {
    CaseSort.UPDATED_DESC: "updated_at DESC, id DESC",
    CaseSort.UPDATED: "updated_at ASC, id ASC",
    CaseSort.CREATED_DESC: "created_at DESC, id DESC",
    CaseSort.CREATED: "created_at ASC, id ASC",
    CaseSort.DUE: "sla_due_at ASC, id ASC",
    CaseSort.DUE_DESC: "sla_due_at DESC, id DESC",
}


async def walk(client: DeskClient, query: CaseQuery, limit: int = 23) -> list[str]:
    refs: list[str] = []
    cursor = None
    while True:
        page = await client.list_cases(query, cursor=cursor, limit=limit)
        assert len(page.items) <= limit
        refs += [item.ref for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return refs


def expected(desk: Desk, where: str, order: str, params: dict | None = None) -> list[str]:
    with desk.engine.connect() as conn:
        ids = conn.execute(sa.text(f"SELECT id FROM cases WHERE {where} ORDER BY {order}"), params or {}).scalars()
        return [case_ref(i) for i in ids]


@pytest.mark.parametrize("sort", list(CaseSort))
async def test_every_sort_walks_all_rows_once_in_order(seeded: Desk, reader: DeskClient, sort: CaseSort) -> None:
    refs = await walk(reader, CaseQuery(state=CaseState.ALL, sort=sort))
    assert len(refs) == len(set(refs)) == 200
    assert refs == expected(seeded, "1=1", SORT_SQL[sort])


async def test_open_and_done_split_the_cases(seeded: Desk, reader: DeskClient) -> None:
    open_refs = await walk(reader, CaseQuery(), limit=50)
    done_refs = await walk(reader, CaseQuery(state=CaseState.DONE), limit=50)
    assert open_refs == expected(seeded, "status IN ('new','open','pending','on_hold')", SORT_SQL[CaseSort.UPDATED_DESC])
    assert done_refs == expected(seeded, "status IN ('resolved','closed')", SORT_SQL[CaseSort.UPDATED_DESC])
    assert open_refs and done_refs


@pytest.mark.parametrize(
    ("query", "where"),
    [
        (CaseQuery(state=CaseState.ALL, category="recycled_number"), "category = 'recycled_number'"),
        (CaseQuery(state=CaseState.ALL, status="pending"), "status = 'pending'"),
        (CaseQuery(priority="urgent"), "priority = 'urgent' AND status IN ('new','open','pending','on_hold')"),
        (CaseQuery(state=CaseState.ALL, assignee="none"), "assignee_id IS NULL"),
        (
            CaseQuery(state=CaseState.ALL, assignee="wangfang", sort=CaseSort.DUE),
            "assignee_id = (SELECT id FROM agents WHERE name = 'wangfang')",
        ),
        (CaseQuery(state=CaseState.ALL, assignee="nobody-by-that-name"), "1=0"),
        (CaseQuery(state=CaseState.DONE, category="rebind", priority="high"),
         "category = 'rebind' AND priority = 'high' AND status IN ('resolved','closed')"),
    ],
)
async def test_filters(seeded: Desk, reader: DeskClient, query: CaseQuery, where: str) -> None:
    refs = await walk(reader, query, limit=7)
    assert refs == expected(seeded, where, SORT_SQL[query.sort])


async def test_assignee_me_is_the_caller(seeded: Desk, reader: DeskClient) -> None:
    refs = await walk(reader, CaseQuery(state=CaseState.ALL, assignee="me"))
    assert refs == expected(seeded, "assignee_id = (SELECT id FROM agents WHERE name = 'local')",
                            SORT_SQL[CaseSort.UPDATED_DESC])


async def test_a_cursor_only_works_for_its_own_query(reader: DeskClient) -> None:
    page = await reader.list_cases(CaseQuery(state=CaseState.ALL), limit=5)
    assert page.next_cursor
    with pytest.raises(BadRequest) as caught:
        await reader.list_cases(CaseQuery(state=CaseState.ALL, sort=CaseSort.DUE), cursor=page.next_cursor)
    assert caught.value.status == 400
    with pytest.raises(BadRequest):
        await reader.list_cases(CaseQuery(state=CaseState.ALL, category="rebind"), cursor=page.next_cursor)
    with pytest.raises(BadRequest):
        await reader.list_cases(CaseQuery(state=CaseState.ALL), cursor="not-a-cursor!")


async def test_limit_bounds_are_validated(seeded: Desk) -> None:
    async with raw(seeded) as http:
        response = await http.get("/cases", params={"limit": 500})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "limit"


async def test_summaries_are_masked(reader: DeskClient) -> None:
    page = await reader.list_cases(CaseQuery(state=CaseState.ALL), limit=200)
    phones = [item.phone for item in page.items if item.phone]
    names = [item.borrower_name for item in page.items if item.borrower_name]
    assert phones and all("****" in phone for phone in phones)
    assert names and all("*" in name for name in names)
