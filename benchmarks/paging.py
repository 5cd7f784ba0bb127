"""Paging, filtering and search over the desk API at 1,000,000 cases, against floors.

What it does, in one process and one run:

1. Generates a desk of ``--cases`` cases in ``benchmarks/out/desk-<N>/`` (migrations,
   then ``linkdesk.server.demo.bulk_generate``; about 3.5 minutes for a million, with
   progress on stderr). A desk that already holds N cases is reused; ``--reuse PATH``
   uses any desk folder (or its ``desk.db``) as it is.
2. Times, through ``DeskClient`` and through a raw httpx GET (``.json()`` only): the
   first page of the inbox (open, ``-updated``), page 1,000 (its cursor found by
   walking 999 ``next_cursor``s), the same for a category filter and for ``sort=due``,
   text search ``q=换号`` and ``q=<an existing last four>`` (first page), and
   ``GET /views``; and the filter language (``filter=``, docs/filters.md): page 1 and
   the deep page of a handful of filters (:data:`FILTERS`), and ``GET /cases/count``
   for one of them. Twice: (a) in-process over ``httpx.ASGITransport`` (the app's own
   cost), (b) over the real local desk service on its Unix socket.
3. Floors, timed in the same rounds: the same SELECT hand-written for Python's
   ``sqlite3`` on the same file (``/views``: the statements the API ran, replayed),
   and a bare FastAPI app answering a precomputed 50-row page (in-process, and under
   uvicorn on a Unix socket configured like the desk service). Each API figure is
   reported as a ratio to ``sql floor + framework floor`` and in ms.

Every figure: 5 warm-up requests, then ``--requests`` (50) timed ones; the figures
are interleaved round by round (the order rotating) so a noisy neighbour on the VM
hits them alike. Absolute ms on a shared 2-core VM are noise; compare ratios.

    python benchmarks/paging.py [--cases 1000000] [--reuse PATH] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
BUDGET_MS = 50.0
RATIO_TOLERANCE = 0.25  # page 1000 may cost at most this much more than page 1

# -- 1. the desk -----------------------------------------------------------------------


def case_count(db: Path) -> int:
    """Cases in ``db``; -1 when it is missing or has no cases table yet."""
    if not db.exists():
        return -1
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT count(*) FROM cases").fetchone()[0])
    except sqlite3.Error:
        return -1
    finally:
        con.close()


def ensure_desk(desk: Path, cases: int) -> dict[str, Any]:
    """A desk folder holding exactly ``cases`` bulk-generated cases (cached)."""
    from linkdesk.server.runner import DATABASE_FILE, embedded_settings, prepare_desk

    db = desk / DATABASE_FILE
    have = case_count(db)
    if have == cases:
        print(f"reusing {db} ({cases:,} cases)", file=sys.stderr)
        prepare_desk(embedded_settings(desk))  # what a desk start does: migrate, statistics
        return {"generated": False, "seconds": None}
    if have >= 0:
        print(f"{db} has {have:,} cases, not {cases:,}: generating it again", file=sys.stderr)
        for name in (DATABASE_FILE, DATABASE_FILE + "-wal", DATABASE_FILE + "-shm"):
            (desk / name).unlink(missing_ok=True)
    desk.mkdir(parents=True, exist_ok=True)
    settings = embedded_settings(desk)
    keyring = prepare_desk(settings)  # migrations; the keys, checked and registered (index length)

    from linkdesk.server.db import make_engine, refresh_statistics
    from linkdesk.server.demo import bulk_generate

    engine = make_engine(settings.database_url)
    start = time.perf_counter()
    step = max(5000, cases // 20)

    def progress(done: int) -> None:
        if done % step == 0 or done == cases:
            elapsed = time.perf_counter() - start
            eta = elapsed / done * (cases - done)
            print(f"  generated {done:>9,}/{cases:,}  {elapsed:5.0f} s  (eta {eta:4.0f} s)",
                  file=sys.stderr, flush=True)

    print(f"generating {cases:,} cases into {db}", file=sys.stderr)
    try:
        bulk_generate(engine, keyring, cases=cases, now=datetime.now(UTC), progress=progress)
        refresh_statistics(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return {"generated": True, "seconds": round(time.perf_counter() - start, 1)}


# -- 2. what is timed ------------------------------------------------------------------


AGENT = "wangfang"
"""The agent of the ``assignee:`` filter (a demo agent: bulk_generate assigns cases to all ten)."""
TAG = "vip"
"""The tag of the ``tag:`` filter (bulk_generate gives each case 0-2 of five tags)."""


def filters(last4: str) -> list[str]:
    """The filters timed (page 1 and the deep page, as far as they have pages)."""
    return ["cat:rebind prio:urgent", "status:pending", f"assignee:{AGENT} sla:breached", "sla:breached",
            f"tag:{TAG}", "created:>-7d", f"phone:{last4}"]


COUNT_FILTER = f"assignee:{AGENT} sla:breached"
"""The filter of the ``GET /cases/count`` figure (not one the tallies answer: a capped COUNT)."""


def figures_spec(last4: str, deep: int) -> list[tuple[str, Any, str]]:
    """(name, CaseQuery or None for /views, page) in report order; the filter figures
    are added by :class:`Bench`, which knows how many pages each has."""
    from linkdesk.domain.cases import CaseCategory
    from linkdesk.domain.views import CaseQuery, CaseSort

    inbox, category, due = CaseQuery(), CaseQuery(category=CaseCategory.REBIND), CaseQuery(sort=CaseSort.DUE)
    return [
        ("inbox p1", inbox, "p1"),
        (f"inbox p{deep}", inbox, "deep"),
        ("category=rebind p1", category, "p1"),
        (f"category=rebind p{deep}", category, "deep"),
        ("sort=due p1", due, "p1"),
        (f"sort=due p{deep}", due, "deep"),
        ("q=换号 p1", CaseQuery(q="换号"), "p1"),
        (f"q={last4} (last four) p1", CaseQuery(q=last4), "p1"),
        ("views", None, ""),
    ]


_COLUMNS = (  # as the list route selects them (issue 5 added risk and the SLA columns)
    "c.id, c.category, c.status, c.priority, c.subject, c.phone_masked, c.sla_due_at, "
    "c.created_at, c.updated_at, c.risk_score, c.is_open, c.first_response_due_at, "
    "c.first_responded_at, c.sla_paused_at, b.name_masked, a.name"
)
_SORTS = {"-updated": ("updated_at", True), "due": ("sla_due_at", False)}


def stored(moment: datetime) -> str:
    """A datetime as ``UTCDateTime`` stores it in SQLite (naive UTC text)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


_TERM_COLUMNS = {"cat": "category", "prio": "priority", "status": "status"}


def filter_floor(text: str, now: datetime, agents: dict[str, int]) -> tuple[list[str], list[Any]]:
    """The WHERE of a filter, written by hand for the terms of :func:`filters` (the phone
    term is the few-ids path, see :func:`floor_sql`). Each is on the open cases."""
    where: list[str] = []
    params: list[Any] = []
    for term in text.split():
        key, _, value = term.partition(":")
        if key in ("cat", "prio", "status"):  # full values only; status: one of the open ones
            where.append(f"c.{_TERM_COLUMNS[key]} = ?")
            params.append(value)
        elif key == "assignee":
            where.append("c.assignee_id = ?")
            params.append(agents[value])
        elif term == "sla:breached":  # running (not paused), resolution or unanswered first response overdue
            where.append("(c.sla_due_at < ? OR (c.first_responded_at IS NULL AND c.first_response_due_at < ?))")
            where.append("c.sla_paused_at IS NULL")
            params.extend([stored(now)] * 2)
        elif key == "tag":  # no tag table: tags are a JSON array in the row, as the API tests them
            where.append("EXISTS (SELECT 1 FROM json_each(c.tags) WHERE json_each.value = ?)")
            params.append(value)
        elif key == "created" and value.startswith(">-") and value.endswith("d"):
            where.append("c.created_at >= ?")
            params.append(stored(now - timedelta(days=int(value[2:-1]))))
        elif key == "phone":
            continue
        else:
            raise ValueError(f"no hand-written floor for {term!r}")
    return where, params


def phone_lookup(query: Any) -> tuple[str, list[Any]] | None:
    """The id lookup of a ``phone:<last four>`` filter (part of its floor: the API runs it too)."""
    from linkdesk.server.search import FEW_HITS

    for term in (query.filter or "").split():
        if term.startswith("phone:"):
            return "SELECT id FROM cases WHERE phone_last4 = ? LIMIT ?", [term[6:], FEW_HITS + 1]
    return None


def floor_sql(query: Any, key: tuple[str, int] | None, few_ids: list[int] | None = None,
              *, now: datetime | None = None, agents: dict[str, int] | None = None,
              count: bool = False) -> tuple[str, list[Any]]:
    """The list query by hand: same columns, joins, filters, keyset and LIMIT 51.

    A search is written the best way for its hit count, as the app chooses: with
    ``few_ids`` (at most FEW_HITS matches, found beforehand and not timed) the matches
    are fetched by rowid and sorted; otherwise the inbox index is walked and each row
    tested against the match set (``+c.id`` keeps SQLite from the other plan). A
    ``filter`` adds its terms written by hand (:func:`filter_floor`); ``count`` gives
    the capped count of ``GET /cases/count`` instead of a page.
    """
    from linkdesk.domain.search import fts5_match

    where, params = ["c.is_open = 1"], []
    if query.filter:
        extra, extra_params = filter_floor(query.filter, now or datetime.now(UTC), agents or {})
        where.extend(extra)
        params.extend(extra_params)
    if query.category:
        where.append("c.category = ?")
        params.append(str(query.category))
    column, descending = _SORTS[str(query.sort)]
    order_column = f"c.{column}"
    if few_ids is not None and not query.q:  # a phone filter's few ids (looked up in the floor)
        where[0] = "+c.is_open = 1"
        where.append(f"c.id IN ({','.join('?' * len(few_ids)) or 'NULL'})")
        params.extend(few_ids)
        order_column = f"+c.{column}"
    elif query.q and few_ids is not None:
        where.append(f"c.id IN ({','.join('?' * len(few_ids)) or 'NULL'})")
        params.extend(few_ids)
        order_column = f"+c.{column}"
    elif query.q:
        text = []
        match = fts5_match(query.q)
        if match:
            text.append("+c.id IN (SELECT rowid FROM case_fts WHERE case_fts MATCH ?)")
            params.append(match)
        if query.q.strip().isdigit() and len(query.q.strip()) == 4:
            text.append("+c.id IN (SELECT id FROM cases WHERE phone_last4 = ?)")
            params.append(query.q.strip())
        where.append("(" + " OR ".join(text) + ")")
    if key is not None:
        where.append(f"(c.{column}, c.id) {'<' if descending else '>'} (?, ?)")
        params.extend(key)
    order = "DESC" if descending else "ASC"
    if count:
        from linkdesk.server.listing import COUNT_CAP

        return (f"SELECT count(*) FROM (SELECT c.id FROM cases c WHERE {' AND '.join(where)} "
                f"LIMIT {COUNT_CAP + 1})"), params
    sql = (
        f"SELECT {_COLUMNS} FROM cases c LEFT JOIN borrowers b ON b.id = c.borrower_id "
        f"LEFT JOIN agents a ON a.id = c.assignee_id WHERE {' AND '.join(where)} "
        f"ORDER BY {order_column} {order}, c.id {order} LIMIT 51"
    )
    return sql, params


def open_sqlite(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(db)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000", "synchronous=NORMAL"):
        con.execute(f"PRAGMA {pragma}")  # as linkdesk.server.db._sqlite_pragmas
    return con


def pick_last4(con: sqlite3.Connection) -> str:
    """The last four of the newest open case that has a number (so it exists)."""
    row = con.execute(
        "SELECT phone_last4 FROM cases WHERE is_open = 1 AND phone_last4 IS NOT NULL "
        "ORDER BY updated_at DESC, id DESC LIMIT 1"
    ).fetchone()
    return row[0]


# -- timing ----------------------------------------------------------------------------


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(p95 * 1000, 3),
        "min_ms": round(ordered[0] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "n": len(ordered),
    }


Call = Callable[[], Any]


async def interleaved(calls: dict[str, Call], warmup: int, rounds: int, label: str) -> dict[str, dict[str, float]]:
    """Warm each call up, then time one of each per round, rotating the order."""
    names = list(calls)

    async def run(name: str) -> None:
        result = calls[name]()
        if isinstance(result, Awaitable):
            await result

    for name in names:
        for _ in range(warmup):
            await run(name)
    samples: dict[str, list[float]] = {name: [] for name in names}
    started = time.perf_counter()
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            t0 = time.perf_counter()
            await run(name)
            samples[name].append(time.perf_counter() - t0)
        if (index + 1) % 10 == 0:
            print(f"  {label}: round {index + 1}/{rounds} ({time.perf_counter() - started:.0f} s)",
                  file=sys.stderr, flush=True)
    return {name: stats(values) for name, values in samples.items()}


# -- the run ---------------------------------------------------------------------------


class Bench:
    def __init__(self, desk: Path, warmup: int, requests: int, deep: int = 1000):
        self.desk = desk
        self.deep = deep
        self.db = desk / "desk.db"
        self.warmup = warmup
        self.requests = requests
        self.con = open_sqlite(self.db)
        self.last4 = pick_last4(self.con)
        self.now = datetime.now(UTC)  # the floors' clock (the API reads its own, moments apart)
        self.agents = dict(self.con.execute("SELECT name, id FROM agents").fetchall())
        self.spec = figures_spec(self.last4, deep)
        self.deep_of: dict[str, int] = {}  # query name -> its deep page (fewer when it has fewer)
        self.filter_pairs: list[tuple[str, str]] = []  # (page 1 figure, deep page figure)
        self.report: dict[str, Any] = {"filters": {}}
        self._add_filters()
        self.cursors: dict[str, str] = {}  # query name -> cursor of page 1000
        self.keys: dict[str, tuple[str, int]] = {}  # query name -> raw keyset of page 1000

    def _add_filters(self) -> None:
        """The filter figures: page 1, and the deep page when the filter has that many
        full pages (else its last full page); the matches counted first, untimed."""
        from linkdesk.domain.views import CaseQuery

        views = self.spec.pop()
        for text in filters(self.last4):
            query = CaseQuery(filter=text)
            sql, params = floor_sql(query, None, now=self.now, agents=self.agents, count=True)
            lookup = phone_lookup(query)
            if lookup is not None:
                matches = len(self.con.execute(*lookup).fetchall())
            else:
                inner = sql.split(" LIMIT ")[0].replace("SELECT count(*) FROM (SELECT c.id", "SELECT count(*)")
                matches = self.con.execute(inner, params).fetchone()[0]
            pages = matches // 50
            deep = min(self.deep, pages)
            self.report["filters"][text] = {"open_matches": matches, "full_pages": pages, "deep_page": deep}
            print(f"  filter {text!r}: {matches:,} open matches, deep page {deep:,}", file=sys.stderr, flush=True)
            self.spec.append((f"filter {text} p1", query, "p1"))
            if deep >= 2:
                self.deep_of[self._qname(query)] = deep
                self.spec.append((f"filter {text} p{deep}", query, "deep"))
                self.filter_pairs.append((f"filter {text} p1", f"filter {text} p{deep}"))
        self.spec.append((f"count {COUNT_FILTER}", CaseQuery(filter=COUNT_FILTER), "count"))
        self.spec.append(views)

    # the SQL floor, per figure
    def sql_calls(self, view_statements: list[tuple[str, tuple[Any, ...]]]) -> dict[str, Call]:
        calls: dict[str, Call] = {}
        for name, query, page in self.spec:
            if query is None:
                def views(statements=view_statements) -> None:
                    for sql, params in statements:
                        self.con.execute(sql, params).fetchall()
                calls[name] = views
                continue
            key = self.keys[self._qname(query)] if page == "deep" else None
            sql, params = floor_sql(query, key, self.few_ids(query), now=self.now, agents=self.agents,
                                    count=page == "count")
            lookup = phone_lookup(query)
            if lookup is not None:  # the floor looks the ids up too, as the API must
                def call(sql=sql, params=params, lookup=lookup) -> None:
                    self.con.execute(*lookup).fetchall()
                    self.con.execute(sql, params).fetchall()
                calls[name] = call
            else:
                calls[name] = lambda sql=sql, params=params: self.con.execute(sql, params).fetchall()
        return calls

    def floor_plans(self) -> dict[str, Any]:
        """EXPLAIN QUERY PLAN of each floor statement (to compare with the API's)."""
        out: dict[str, Any] = {}
        for name, query, page in self.spec:
            if query is None:
                continue
            key = self.keys.get(self._qname(query)) if page == "deep" else None
            sql, params = floor_sql(query, key, self.few_ids(query), now=self.now, agents=self.agents,
                                    count=page == "count")
            out[name] = [row[3] for row in self.con.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
        return out

    def few_ids(self, query: Any) -> list[int] | None:
        """A search's matches when they are few enough to fetch (found once, untimed)."""
        lookup = phone_lookup(query)
        if lookup is not None:
            ids = [r[0] for r in self.con.execute(*lookup)]
            return sorted(ids) if len(ids) < lookup[1][1] else None
        if not query.q:
            return None
        from linkdesk.domain.search import fts5_match
        from linkdesk.server.search import FEW_HITS

        ids: set[int] = set()
        match = fts5_match(query.q)
        if match:
            ids.update(r[0] for r in self.con.execute(
                "SELECT rowid FROM case_fts WHERE case_fts MATCH ? LIMIT ?", (match, FEW_HITS + 1)))
        q = query.q.strip()
        if q.isdigit() and len(q) == 4:
            ids.update(r[0] for r in self.con.execute(
                "SELECT id FROM cases WHERE phone_last4 = ? LIMIT ?", (q, FEW_HITS + 1)))
        return sorted(ids) if len(ids) <= FEW_HITS else None

    @staticmethod
    def _qname(query: Any) -> str:
        return json.dumps(query.params(), sort_keys=True, ensure_ascii=False)

    def api_calls(self, client: Any, http: Any) -> tuple[dict[str, Call], dict[str, Call]]:
        """(DeskClient calls, raw-GET calls) per figure."""
        desk_calls: dict[str, Call] = {}
        raw_calls: dict[str, Call] = {}
        for name, query, page in self.spec:
            if query is None:
                desk_calls[name] = client.views
                raw_calls[name] = lambda: _get_json(http, "/api/v1/views", {})
                continue
            if page == "count":
                desk_calls[name] = lambda query=query: client.count_cases(query)
                raw_calls[name] = lambda query=query: _get_json(
                    http, "/api/v1/cases/count", {"state": str(query.state), "filter": query.filter})
                continue
            cursor = self.cursors[self._qname(query)] if page == "deep" else None
            params: dict[str, Any] = dict(query.params(), limit=50)
            if cursor:
                params["cursor"] = cursor
            desk_calls[name] = lambda query=query, cursor=cursor: client.list_cases(query, cursor=cursor)
            raw_calls[name] = lambda params=params: _get_json(http, "/api/v1/cases", params)
        return desk_calls, raw_calls

    async def walk(self, client: Any) -> dict[str, Any]:
        """Follow 999 next_cursors per paged query; keep page 1000's cursor and keyset."""
        from linkdesk.domain.refs import parse_case_ref

        walks = {}
        for name, query, page in self.spec:
            if page != "deep":
                continue
            times, cursor = [], None
            deep = self.deep_of.get(self._qname(query), self.deep)
            for _ in range(deep - 1):
                t0 = time.perf_counter()
                result = await client.list_cases(query, cursor=cursor)
                times.append(time.perf_counter() - t0)
                cursor = result.next_cursor
                if cursor is None:
                    raise SystemExit(f"{name}: fewer than {deep:,} pages; use more --cases")
            qname = self._qname(query)
            self.cursors[qname] = cursor
            # page 1000's keyset, as stored: the row the cursor points at
            payload = json.loads(_b64(cursor))
            column, _ = _SORTS[str(query.sort)]
            stored = self.con.execute(f"SELECT {column} FROM cases WHERE id = ?", (payload["i"],)).fetchone()[0]
            self.keys[qname] = (stored, payload["i"])
            # the floor query must return the very page the API returns
            api_ids = [parse_case_ref(item.ref) for item in (await client.list_cases(query, cursor=cursor)).items]
            sql, params = floor_sql(query, self.keys[qname], now=datetime.now(UTC), agents=self.agents)
            raw_ids = [row[0] for row in self.con.execute(sql, params).fetchall()][:50]
            assert api_ids == raw_ids, f"{name}: the raw SQL page differs from the API page"
            walks[name.rsplit(" ", 1)[0]] = {
                "walk_s": round(sum(times), 2),
                "pages_2_11_median_ms": round(statistics.median(times[1:11]) * 1000, 3),
                "last_10_pages_median_ms": round(statistics.median(times[-10:]) * 1000, 3),
                "deep_page_first_id": api_ids[0],
            }
            print(f"  walked {name.rsplit(' ', 1)[0]}: {sum(times):.1f} s", file=sys.stderr, flush=True)
        return walks

    def plans(self, captured: dict[str, list[tuple[str, tuple[Any, ...]]]]) -> dict[str, Any]:
        """EXPLAIN QUERY PLAN of the statements the API ran for each figure (not the
        per-request caller lookup)."""
        out: dict[str, Any] = {}
        for name, statements in captured.items():
            plans = []
            for sql, params in statements:
                if "FROM cases" not in sql and "FROM case_tallies" not in sql:
                    continue
                rows = self.con.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
                plans.append([row[3] for row in rows])
            if name == "views" or name.startswith(("filter ", "count ")):
                out[name] = plans  # a filter's every statement (a phone term looks its ids up first)
            else:
                out[name] = plans[0] if plans else []
        return out


def _b64(cursor: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


async def _get_json(http: Any, path: str, params: dict[str, Any]) -> Any:
    response = await http.get(path, params=params)
    response.raise_for_status()
    return response.json()


def attach_capture(engine: Any) -> dict[str, Any]:
    """Record the statements an engine runs while ``box['on']`` is a list."""
    from sqlalchemy import event

    box: dict[str, Any] = {"on": None}

    @event.listens_for(engine, "before_cursor_execute")
    def _capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if box["on"] is not None:
            box["on"].append((statement, tuple(parameters)))

    return box


async def run_inprocess(bench: Bench) -> dict[str, Any]:
    import httpx

    from linkdesk.client.desk import DeskClient
    from linkdesk.server.app import create_app
    from linkdesk.server.runner import embedded_settings

    sys.path.insert(0, str(HERE))
    from bare_api import make_app

    app = create_app(embedded_settings(bench.desk))
    box = attach_capture(app.state.engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with DeskClient("http://bench", transport=transport) as client, \
                httpx.AsyncClient(base_url="http://bench", transport=transport) as http:
            print(f"in-process: walking to page {bench.deep:,}", file=sys.stderr, flush=True)
            bench.report["walks_inprocess"] = await bench.walk(client)
            desk_calls, raw_calls = bench.api_calls(client, http)
            # the statements behind each figure, for the plans and the /views floor
            captured = {}
            for name in raw_calls:
                box["on"] = []
                await raw_calls[name]()
                captured[name], box["on"] = box["on"], None
            bench.report["plans"] = bench.plans(captured)
            bench.report["floor_plans"] = bench.floor_plans()
            # the tallies, and (issue 5) the capped COUNT of a view with a filter (sla:today)
            bench.view_statements = [(s, p) for s, p in captured["views"]
                                     if "case_tallies" in s or "FROM cases" in s]
            payload = await _get_json(http, "/api/v1/cases", {"limit": 50})
            bench.payload = payload
            bare = make_app(payload)
            async with bare.router.lifespan_context(bare):
                async with httpx.AsyncClient(base_url="http://bare", transport=httpx.ASGITransport(app=bare)) as bare_http:
                    calls = all_calls(bench, bare_http, desk_calls, raw_calls)
                    print("in-process: timing", file=sys.stderr, flush=True)
                    return await interleaved(calls, bench.warmup, bench.requests, "in-process")


def all_calls(
    bench: Bench, bare_http: Any, desk_calls: dict[str, Call], raw_calls: dict[str, Call]
) -> dict[str, Call]:
    """Everything one mode times, floors first, interleaved by ``interleaved``."""
    calls: dict[str, Call] = {
        "floor: framework (def + JSONResponse)": lambda: _get_json(bare_http, "/page", {}),
        "floor: framework (async, bytes)": lambda: _get_json(bare_http, "/page_raw", {}),
    }
    for name, call in bench.sql_calls(bench.view_statements).items():
        calls["sql: " + name] = call
    for name in desk_calls:
        calls["client: " + name] = desk_calls[name]
        calls["raw: " + name] = raw_calls[name]
    return calls


async def run_socket(bench: Bench) -> dict[str, Any]:
    import httpx

    from linkdesk.client.desk import DeskClient
    from linkdesk.client.local import LOCAL_BASE_URL, LocalDesk, LocalDeskTransport, runtime_dir

    desk = LocalDesk(bench.desk)
    print("socket: starting the local desk service", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    desk.ensure_running()
    bench.report["service_start_s"] = round(time.perf_counter() - t0, 2)
    bare_socket = runtime_dir() / f"bench-bare-{os.getpid()}.sock"
    payload_file = Path(tempfile.mkstemp(suffix=".json")[1])
    payload_file.write_text(json.dumps(bench.payload, ensure_ascii=False))
    bare = subprocess.Popen(
        [sys.executable, str(HERE / "bare_api.py"), "--uds", str(bare_socket), "--payload", str(payload_file)],
        stdin=subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url="http://bare", transport=httpx.AsyncHTTPTransport(uds=str(bare_socket))) as bare_http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    await bare_http.get("/health")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or bare.poll() is not None:
                        raise SystemExit("the bare API did not start")
                    await asyncio.sleep(0.1)
            async with DeskClient(LOCAL_BASE_URL, transport=LocalDeskTransport(desk)) as client, \
                    httpx.AsyncClient(base_url=LOCAL_BASE_URL, transport=httpx.AsyncHTTPTransport(uds=str(desk.socket))) as http:
                desk_calls, raw_calls = bench.api_calls(client, http)
                calls = all_calls(bench, bare_http, desk_calls, raw_calls)
                print("socket: timing", file=sys.stderr, flush=True)
                return await interleaved(calls, bench.warmup, bench.requests, "socket")
    finally:
        bare.terminate()
        bare.wait(timeout=10)
        bare_socket.unlink(missing_ok=True)
        payload_file.unlink(missing_ok=True)
        desk.stop()


def summarize(bench: Bench, timings: dict[str, Any]) -> dict[str, Any]:
    """Per figure: client and raw ms, the floors, the ratios."""
    framework = timings["floor: framework (def + JSONResponse)"]["median_ms"]
    rows = {}
    for name, _, _ in bench.spec:
        sql = timings["sql: " + name]["median_ms"]
        floor = sql + framework
        client, raw = timings["client: " + name], timings["raw: " + name]
        rows[name] = {
            "client": client,
            "raw": raw,
            "sql_floor": timings["sql: " + name],
            "floor_ms": round(floor, 3),
            "ratio_client": round(client["median_ms"] / floor, 2),
            "ratio_raw": round(raw["median_ms"] / floor, 2),
        }
    return {
        "figures": rows,
        "framework_floor": timings["floor: framework (def + JSONResponse)"],
        "framework_floor_async_bytes": timings["floor: framework (async, bytes)"],
    }


def budget(modes: dict[str, Any], deep: int) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    ok = True
    for mode, summary in modes.items():
        figures = summary["figures"]
        for name in ("inbox p1", f"inbox p{deep}"):
            client = figures[name]["client"]
            passed = client["median_ms"] < BUDGET_MS and client["p95_ms"] < BUDGET_MS
            checks[f"{mode}: {name} < {BUDGET_MS:g} ms (median and p95)"] = passed
            ok &= passed
        for base in ("inbox", "category=rebind", "sort=due"):
            ratio = figures[f"{base} p{deep}"]["client"]["median_ms"] / figures[f"{base} p1"]["client"]["median_ms"]
            passed = ratio <= 1 + RATIO_TOLERANCE  # deeper pages must not cost more
            checks[f"{mode}: {base} p{deep}/p1 = {ratio:.2f} (at most {1 + RATIO_TOLERANCE})"] = passed
            if base == "inbox":
                ok &= passed
    return {"ok": ok, "checks": checks}


def filter_depth(modes: dict[str, Any], pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Deep page / page 1 of each filter (reported, not a budget check)."""
    out: dict[str, Any] = {}
    for mode, summary in modes.items():
        figures = summary["figures"]
        for p1, deep in pairs:
            out[f"{mode}: {deep} / p1"] = {
                "client": round(figures[deep]["client"]["median_ms"] / figures[p1]["client"]["median_ms"], 2),
                "sql": round(figures[deep]["sql_floor"]["median_ms"] / figures[p1]["sql_floor"]["median_ms"], 2),
            }
    return out


def print_table(result: dict[str, Any]) -> None:
    for mode, summary in result["modes"].items():
        fw = summary["framework_floor"]["median_ms"]
        print(f"\n{mode}: framework floor {fw:.2f} ms (async bytes "
              f"{summary['framework_floor_async_bytes']['median_ms']:.2f} ms)", file=sys.stderr)
        print(f"  {'figure':48} {'client med':>10} {'p95':>8} {'raw med':>8} {'sql':>8} {'ratio':>6}",
              file=sys.stderr)
        for name, row in summary["figures"].items():
            print(f"  {name:48} {row['client']['median_ms']:10.2f} {row['client']['p95_ms']:8.2f} "
                  f"{row['raw']['median_ms']:8.2f} {row['sql_floor']['median_ms']:8.3f} "
                  f"{row['ratio_client']:6.1f}", file=sys.stderr)
    print("\nbudget:", "OK" if result["budget"]["ok"] else "NOT MET", file=sys.stderr)
    for check, passed in result["budget"]["checks"].items():
        print(f"  [{'ok' if passed else 'FAIL'}] {check}", file=sys.stderr)
    print("\nfilters, deep page / page 1 (client, sql floor):", file=sys.stderr)
    for name, ratios in result["filter_depth"].items():
        print(f"  {name}: {ratios['client']:.2f}, {ratios['sql']:.2f}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases in the generated desk")
    parser.add_argument("--reuse", type=Path, help="use this desk folder (or its desk.db) as it is")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per figure (>= 50)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--page", type=int, default=1000, help="the deep page (walked to by cursors)")
    parser.add_argument("--skip-socket", action="store_true", help="in-process only")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    if args.reuse:
        desk = args.reuse.parent if args.reuse.suffix == ".db" else args.reuse
        generation = {"generated": False, "seconds": None, "reused": str(desk)}
    else:
        desk = OUT / f"desk-{args.cases}"
        generation = ensure_desk(desk, args.cases)
    desk = desk.resolve()
    bench = Bench(desk, args.warmup, args.requests, args.page)
    con = bench.con
    result: dict[str, Any] = {
        "desk": str(desk),
        "generation": generation,
        "cases": con.execute("SELECT count(*) FROM cases").fetchone()[0],
        "open_cases": con.execute("SELECT count(*) FROM cases WHERE is_open = 1").fetchone()[0],
        "db_bytes": sum(p.stat().st_size for p in desk.glob("desk.db*")),
        "sqlite_stat1": bool(con.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()),
        "last4": bench.last4,
        "machine": {
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "cpus": os.cpu_count(), "platform": platform.platform(),
        },
        "method": {"warmup": args.warmup, "requests": args.requests, "interleaved": True,
                   "ratio": "median / (sql floor median + framework floor median)"},
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_before": os.getloadavg(),
    }
    modes: dict[str, Any] = {}
    modes["in-process (ASGITransport)"] = summarize(bench, asyncio.run(run_inprocess(bench)))
    if not args.skip_socket:
        modes["local desk service (Unix socket)"] = summarize(bench, asyncio.run(run_socket(bench)))
    result.update(bench.report)
    result["modes"] = modes
    result["budget"] = budget(modes, args.page)
    result["filter_depth"] = filter_depth(modes, bench.filter_pairs)
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["load_after"] = os.getloadavg()
    print_table(result)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
