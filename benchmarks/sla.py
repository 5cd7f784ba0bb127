"""What SLAs on the business calendar (issue 5) cost, each figure against a floor timed in the same run.

Two parts:

1. **Due dates.** ``linkdesk.domain.sla.deadlines(category, priority, received_at, policy)``
   (first response and resolution, business time on the mainland calendar; privacy
   requests: the end of the 15th working day) for ``--receipts`` receipt moments: the demo's
   mix of categories and priorities, received at any time of day from mid-September 2026
   to March 2027 (National Day, New Year, Spring Festival and their make-up working days),
   a fifth of them on a public holiday or in the last working hour before one. Also
   ``soon_at(due)`` (2 business hours earlier), which the desk computes for every open row
   of every list page. Floors, in the same rounds:

   * *wall clock*: ``received + timedelta`` of the same targets (what SLAs in plain hours
     would cost: two dict lookups and two additions);
   * *table by hand*: the same business-time arithmetic over a precomputed list of working
     days (taken from the product's calendar outside the timing) in integer microseconds,
     a fixed +8 h offset, a dict for the day's index, precomputed UTC midnights. Its answers
     are asserted equal to the product's for every receipt before timing.

   One warm-up pass; ``--rounds`` rounds, each walking the receipts in chunks of
   ``--chunk`` and timing every pass on each chunk back to back, the order rotating. CPU
   time of the process per pass (``time.process_time``; wall time too). Ratio = median
   over all chunks of product CPU / floor CPU on the same chunk. The first call (it
   imports ``holidays`` and builds the table of working days) is timed on its own, in a
   fresh interpreter.

2. **The breach sweep.** ``linkdesk.server.sla.sweep_once(engine, now)`` on a copy of a desk
   of ``--cases`` cases (made by the migrations; rows written with ``sqlite3``, only what the
   sweep reads: status, due dates from ``deadlines``, first responses, pauses) swept at
   ``now`` = one day after the cases were made, so that most open cases are overdue.
   Passes are repeated until one flags nothing (each pass flags at most ``SWEEP_LIMIT``
   per target, ``SWEEP_BATCH`` a transaction); then ``--idle`` passes with nothing to flag
   (what the desk pays every minute). Floor, on another fresh copy: the same protocol by
   hand with ``sqlite3`` (SELECT ids ``ORDER BY due LIMIT 500``, conditional ``UPDATE … WHERE
   id IN (…) AND flag = 0 … RETURNING``, INSERT of the events, COMMIT). ``--sweep-rounds``
   rounds, the order alternating. Also: ``EXPLAIN QUERY PLAN`` of the statements the sweep
   ran (the candidates must come from ``ix_cases_sla_watch`` and
   ``ix_cases_first_response_watch``).

The desk is cached in ``benchmarks/out/sla-desk-<N>/`` (reused while it holds exactly N
cases). Absolute times on a shared 2-core VM are noise; compare the ratios.

    python benchmarks/sla.py [--receipts 20000] [--cases 100000] [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
START = datetime(2026, 9, 15, tzinfo=UTC)
END = datetime(2027, 3, 1, tzinfo=UTC)
OFFSET = timedelta(hours=8)  # Asia/Shanghai, no daylight saving since 1991
PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000", "synchronous=NORMAL")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pick(rng: random.Random, table: dict[Any, int]) -> Any:
    return rng.choices(list(table), weights=list(table.values()))[0]


def stored(moment: datetime) -> str:
    """A datetime as ``UTCDateTime`` stores it in SQLite (naive UTC text)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# -- 1. due dates ----------------------------------------------------------------------


def days_off(first: date, last: date) -> tuple[list[date], list[date]]:
    """(public holidays that fall on weekdays, last working days before a day off) in the range."""
    from linkdesk.domain.sla_policy import default_policy

    calendar = default_policy().business_calendar
    holidays, eves = [], []
    day = first
    while day <= last:
        working = calendar.is_working_day(day)
        if not working and day.weekday() < 5:
            holidays.append(day)
        if working and not calendar.is_working_day(day + timedelta(days=1)):
            eves.append(day)
        day += timedelta(days=1)
    return holidays, eves


def make_receipts(count: int, seed: int) -> tuple[list[tuple[str, str, datetime]], dict[str, int]]:
    """(category, priority, received_at) as the desk passes them (str values, aware UTC)."""
    from linkdesk.server.demo import CATEGORY_WEIGHTS, PRIORITY_WEIGHTS

    rng = random.Random(seed)
    holidays, eves = days_off(START.date(), END.date())
    span = int((END - START).total_seconds())
    out = []
    groups = {"any time": 0, "on a public holiday": 0, "last working hour before a day off": 0}
    for _ in range(count):
        category, priority = str(pick(rng, CATEGORY_WEIGHTS)), str(pick(rng, PRIORITY_WEIGHTS))
        draw = rng.random()
        if draw < 0.1:
            day = rng.choice(holidays)
            local = datetime.combine(day, datetime.min.time()) + timedelta(seconds=rng.randrange(86400))
            group = "on a public holiday"
        elif draw < 0.2:
            day = rng.choice(eves)
            local = datetime.combine(day, datetime.min.time()) + timedelta(hours=17, seconds=rng.randrange(3600))
            group = "last working hour before a day off"
        else:
            received = START + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(1_000_000))
            out.append((category, priority, received))
            groups["any time"] += 1
            continue
        received = (local - OFFSET).replace(tzinfo=UTC, microsecond=rng.randrange(1_000_000))
        out.append((category, priority, received))
        groups[group] += 1
    return out, groups


class TableFloor:
    """Business time by hand over a precomputed table: the floor of :func:`deadlines`."""

    def __init__(self, policy: Any, first_year: int, last_year: int) -> None:
        calendar = policy.business_calendar
        _, days = calendar._days_for(first_year, last_year)  # the product's own table, untimed
        self.days = list(days)
        self.index = {ordinal: i for i, ordinal in enumerate(self.days)}
        start, end = policy.calendar.work_start, policy.calendar.work_end
        self.start_us = (start.hour * 3600 + start.minute * 60 + start.second) * 1_000_000
        self.day_us = (end.hour * 3600 + end.minute * 60 + end.second) * 1_000_000 - self.start_us
        epoch = datetime(1, 1, 1, tzinfo=UTC)
        self.midnights = [epoch + timedelta(days=o - 1) - OFFSET for o in self.days]
        self.ends = [m + timedelta(microseconds=self.start_us + self.day_us) for m in self.midnights]
        us = timedelta(microseconds=1)
        self.spans = {}
        for key, targets in policy._targets.items():
            self.spans[key] = (targets.first_response // us,
                               None if targets.resolution is None else targets.resolution // us)
        self.privacy_days = policy.privacy_request.working_days
        self.soon_us = policy.soon // us

    def add(self, moment: datetime, span: int) -> datetime:
        local = moment + OFFSET
        ordinal = local.toordinal()
        i = self.index.get(ordinal)
        if i is None:
            position = bisect_left(self.days, ordinal) * self.day_us
        else:
            into = (local.hour * 3600 + local.minute * 60 + local.second) * 1_000_000 + local.microsecond
            into -= self.start_us
            # conditionals, not min/max: this is the floor, and a call costs more
            position = i * self.day_us + (0 if into < 0 else self.day_us if into > self.day_us else into)  # noqa: FURB136
        index, into = divmod(position + span, self.day_us)
        if into == 0 and index > 0:
            index, into = index - 1, self.day_us
        return self.midnights[index] + timedelta(microseconds=self.start_us + into)

    def deadlines_all(self, receipts: list[tuple[str, str, datetime]]) -> list[tuple[datetime, datetime]]:
        add, spans, days, ends, n = self.add, self.spans, self.days, self.ends, self.privacy_days
        out = []
        for category, priority, received in receipts:
            first_span, resolution_span = spans[category, priority]
            first = add(received, first_span)
            if resolution_span is None:
                resolution = ends[bisect_right(days, (received + OFFSET).toordinal()) + n - 1]
            else:
                resolution = add(received, resolution_span)
            out.append((first, resolution))
        return out

    def soon_all(self, dues: list[datetime]) -> list[datetime]:
        add, back = self.add, -self.soon_us
        return [add(due, back) for due in dues]


def wall_floor(policy: Any) -> Callable[[list[tuple[str, str, datetime]]], list[tuple[datetime, datetime]]]:
    """``received + timedelta``: the same targets read as plain hours (privacy: 15 days)."""
    spans = {key: (t.first_response, t.resolution or timedelta(days=policy.privacy_request.working_days))
             for key, t in policy._targets.items()}

    def run(receipts: list[tuple[str, str, datetime]]) -> list[tuple[datetime, datetime]]:
        out = []
        for category, priority, received in receipts:
            first, resolution = spans[category, priority]
            out.append((received + first, received + resolution))
        return out

    return run


def product_deadlines(policy: Any) -> Callable[[list[tuple[str, str, datetime]]], list[Any]]:
    from linkdesk.domain.sla import deadlines

    def run(receipts: list[tuple[str, str, datetime]]) -> list[Any]:
        return [deadlines(category, priority, received, policy) for category, priority, received in receipts]

    return run


def product_soon(policy: Any) -> Callable[[list[datetime]], list[datetime]]:
    from linkdesk.domain.sla import soon_at

    def run(dues: list[datetime]) -> list[datetime]:
        return [soon_at(due, policy) for due in dues]

    return run


def cold_first_call() -> dict[str, float]:
    """The first due date of a fresh interpreter (imports ``holidays``, builds the table)."""
    code = (
        "import time; from datetime import datetime, UTC\n"
        "t0 = time.perf_counter()\n"
        "from linkdesk.domain.sla import deadlines\n"
        "from linkdesk.domain.sla_policy import default_policy\n"
        "p = default_policy(); t1 = time.perf_counter()\n"
        "deadlines('rebind', 'normal', datetime(2026, 11, 30, 3, tzinfo=UTC), p); t2 = time.perf_counter()\n"
        "deadlines('rebind', 'high', datetime(2026, 12, 1, 3, tzinfo=UTC), p); t3 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1, t3 - t2)\n"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        runs.append([float(x) for x in out.stdout.split()])
    best = min(runs, key=lambda r: r[1])
    return {"import_and_policy_ms": round(best[0] * 1000, 1), "first_call_ms": round(best[1] * 1000, 1),
            "second_call_us": round(best[2] * 1e6, 1)}


def bench_due_dates(count: int, seed: int, rounds: int, chunk: int) -> dict[str, Any]:
    from linkdesk.domain.sla_policy import default_policy

    policy = default_policy()
    receipts, groups = make_receipts(count, seed)
    product, soon = product_deadlines(policy), product_soon(policy)
    table = TableFloor(policy, START.year - 1, END.year + 2)
    wall = wall_floor(policy)
    # the floor must give the product's answers, every one
    expected = product(receipts)
    mine = table.deadlines_all(receipts)
    for (category, priority, received), due, (first, resolution) in zip(receipts, expected, mine, strict=True):
        assert (due.first_response, due.resolution) == (first, resolution), (category, priority, received, due, first,
                                                                              resolution)
    dues = [due.resolution for due in expected]
    assert soon(dues) == table.soon_all(dues)
    crossing = 0  # resolutions with a day off between the day of receipt and the due day
    for (_, _, received), due in zip(receipts, expected, strict=True):
        first, last = (received + OFFSET).toordinal(), (due.resolution + OFFSET).toordinal()
        crossing += any(day not in table.index for day in range(first + 1, last))
    log(f"due dates: {count:,} receipts checked against the table floor; {crossing:,} resolutions "
        f"have a day off between receipt and due date")
    passes: dict[str, Callable[[int, int], Any]] = {
        "deadlines (product)": lambda a, b: product(receipts[a:b]),
        "floor: table by hand": lambda a, b: table.deadlines_all(receipts[a:b]),
        "floor: wall clock": lambda a, b: wall(receipts[a:b]),
        "soon_at (product)": lambda a, b: soon(dues[a:b]),
        "floor: soon_at by hand": lambda a, b: table.soon_all(dues[a:b]),
    }
    names = list(passes)
    gc.collect()
    gc.freeze()
    for name in names:  # warm-up
        passes[name](0, count)
    totals: dict[str, list[list[float]]] = {name: [] for name in names}  # per round: [cpu, wall]
    per_chunk: dict[str, list[float]] = {name: [] for name in names}
    step = 0
    for r in range(rounds):
        for name in names:
            totals[name].append([0.0, 0.0])
        for a in range(0, count, chunk):
            b = min(a + chunk, count)
            shift = step % len(names)
            step += 1
            for name in names[shift:] + names[:shift]:
                gc.collect()
                c0, w0 = time.process_time(), time.perf_counter()
                passes[name](a, b)
                c1, w1 = time.process_time(), time.perf_counter()
                totals[name][r][0] += c1 - c0
                totals[name][r][1] += w1 - w0
                per_chunk[name].append(c1 - c0)
        log(f"  due dates: round {r + 1}/{rounds}")
    gc.unfreeze()
    result: dict[str, Any] = {"receipts": count, "groups": groups, "crossing_a_day_off_after_receipt": crossing,
                              "rounds": rounds, "chunk": chunk, "passes": {}}
    for name in names:
        cpu = statistics.median(t[0] for t in totals[name])
        wall_s = statistics.median(t[1] for t in totals[name])
        result["passes"][name] = {"cpu_ms": round(cpu * 1000, 1), "wall_ms": round(wall_s * 1000, 1),
                                  "us_each_cpu": round(cpu / count * 1e6, 3)}

    def ratio(a: str, b: str) -> dict[str, float]:
        values = sorted(x / y for x, y in zip(per_chunk[a], per_chunk[b], strict=True) if y > 0)
        return {"median": round(statistics.median(values), 2), "min": round(values[0], 2),
                "max": round(values[-1], 2)}

    result["ratios"] = {
        "deadlines / table by hand": ratio("deadlines (product)", "floor: table by hand"),
        "deadlines / wall clock": ratio("deadlines (product)", "floor: wall clock"),
        "table by hand / wall clock": ratio("floor: table by hand", "floor: wall clock"),
        "soon_at / by hand": ratio("soon_at (product)", "floor: soon_at by hand"),
    }
    return result


# -- 2. the breach sweep ---------------------------------------------------------------


def case_count(db: Path) -> int:
    if not db.exists():
        return -1
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT count(*) FROM cases").fetchone()[0])
    except sqlite3.Error:
        return -1
    finally:
        con.close()


def ensure_desk(desk: Path, cases: int, seed: int) -> dict[str, Any]:
    """A desk with ``cases`` cases whose SLA columns are as the desk writes them (cached).
    Its creation time is kept in ``made_at`` so the sweep's clock is the same every run."""
    from linkdesk.domain.sla import deadlines
    from linkdesk.domain.sla_policy import default_policy
    from linkdesk.server.db import make_engine, refresh_statistics
    from linkdesk.server.demo import CATEGORY_WEIGHTS, PRIORITY_WEIGHTS, STATUS_WEIGHTS
    from linkdesk.server.runner import embedded_settings, prepare_desk

    db = desk / "desk.db"
    if case_count(db) == cases and (desk / "made_at").exists():
        log(f"reusing {db} ({cases:,} cases)")
        return {"generated": False, "made_at": (desk / "made_at").read_text().strip()}
    shutil.rmtree(desk, ignore_errors=True)
    desk.mkdir(parents=True)
    t0 = time.perf_counter()
    settings = embedded_settings(desk)
    prepare_desk(settings)
    policy = default_policy()
    made_at = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(seed)
    rows = []
    for case_id in range(1, cases + 1):
        category, priority = str(pick(rng, CATEGORY_WEIGHTS)), str(pick(rng, PRIORITY_WEIGHTS))
        status = pick(rng, STATUS_WEIGHTS)
        is_open = status not in ("resolved", "closed")
        if is_open:  # as demo.bulk_generate: open work mostly recent
            created = made_at - timedelta(hours=min(rng.expovariate(1 / 40), 24 * 90))
        else:
            created = made_at - timedelta(days=rng.uniform(1, 90))
        due = deadlines(category, priority, created, policy)
        responded = None
        if rng.random() < 0.4:
            responded = min(created + timedelta(minutes=rng.uniform(5, 600)), made_at)
        paused = created + (made_at - created) * rng.random() if status == "pending" else None
        rows.append((case_id, category, status, int(is_open), priority, f"SLA sweep bench {case_id}", "",
                     "[]", "", stored(due.resolution), stored(created), stored(created), 1, 1,
                     stored(due.first_response), stored(responded) if responded else None,
                     stored(paused) if paused else None, 0, 0))
    con = sqlite3.connect(db, isolation_level=None)
    for pragma in PRAGMAS:
        con.execute(f"PRAGMA {pragma}")
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO cases (id, category, status, is_open, priority, subject, body, tags, search_tokens, "
        "sla_due_at, created_at, updated_at, version, key_version, first_response_due_at, first_responded_at, "
        "sla_paused_at, sla_breached, first_response_breached) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    engine = make_engine(settings.database_url)
    refresh_statistics(engine)
    engine.dispose()
    (desk / "made_at").write_text(made_at.isoformat() + "\n")
    seconds = round(time.perf_counter() - t0, 1)
    log(f"generated {db} ({cases:,} cases) in {seconds} s")
    return {"generated": True, "seconds": seconds, "made_at": made_at.isoformat()}


def copy_desk(base: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("desk.db", "master.key"):
        shutil.copyfile(base / name, target / name)
    os.chmod(target / "master.key", 0o600)
    return target


def overdue_counts(db: Path, now: datetime) -> dict[str, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    at = stored(now)
    try:
        resolution = con.execute(
            "SELECT count(*) FROM cases WHERE is_open = 1 AND sla_breached = 0 AND sla_due_at < ? "
            "AND sla_paused_at IS NULL", (at,)).fetchone()[0]
        first = con.execute(
            "SELECT count(*) FROM cases WHERE is_open = 1 AND first_response_breached = 0 "
            "AND first_responded_at IS NULL AND first_response_due_at < ? AND sla_paused_at IS NULL",
            (at,)).fetchone()[0]
        open_ = con.execute("SELECT count(*) FROM cases WHERE is_open = 1").fetchone()[0]
    finally:
        con.close()
    return {"open": open_, "resolution_overdue": resolution, "first_response_overdue": first}


def sweep_product(work: Path, now: datetime, idle: int) -> dict[str, Any]:
    from sqlalchemy import event

    from linkdesk.server import sla
    from linkdesk.server.db import make_engine
    from linkdesk.server.runner import embedded_settings

    engine = make_engine(embedded_settings(work).database_url)
    captured: list[tuple[str, tuple[Any, ...]]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not executemany and len(captured) < 200:
            captured.append((statement, tuple(parameters)))

    try:
        passes, flagged = [], 0
        t0 = time.perf_counter()
        while True:
            p0 = time.perf_counter()
            result = sla.sweep_once(engine, now)
            passes.append({"s": round(time.perf_counter() - p0, 3), "first_response": result.first_response,
                           "resolution": result.resolution})
            flagged += result.total
            if result.total == 0:
                break
        catch_up = time.perf_counter() - t0
        idle_times = []
        for _ in range(idle):
            p0 = time.perf_counter()
            assert sla.sweep_once(engine, now).total == 0
            idle_times.append(time.perf_counter() - p0)
    finally:
        engine.dispose()
    return {"seconds": catch_up, "flagged": flagged, "passes": passes, "idle": idle_times, "captured": captured}


TARGETS = {
    "resolution": ("sla_breached", "sla_due_at", ""),
    "first_response": ("first_response_breached", "first_response_due_at", " AND first_responded_at IS NULL"),
}


def sweep_floor(work: Path, now: datetime, idle: int, by_rowid: bool = False) -> dict[str, Any]:
    """The sweep's protocol by hand with ``sqlite3``: same batches, limits and writes.
    ``by_rowid``: the conditional UPDATE's other terms written ``+column`` so that SQLite
    fetches the batch's ids by rowid instead of walking the watch index again."""
    from linkdesk.server.sla import SWEEP_BATCH, SWEEP_LIMIT

    con = sqlite3.connect(work / "desk.db", isolation_level=None)
    for pragma in PRAGMAS:
        con.execute(f"PRAGMA {pragma}")
    at = stored(now)
    plus = "+" if by_rowid else ""

    def one_pass() -> int:
        total = 0
        for target, (flag, due, extra) in TARGETS.items():
            select = (f"SELECT id FROM cases WHERE is_open = 1 AND {flag} = 0{extra} AND {due} < ? "
                      f"AND sla_paused_at IS NULL ORDER BY {due} LIMIT {SWEEP_BATCH}")
            done = 0
            while done < SWEEP_LIMIT:
                con.execute("BEGIN")
                ids = [row[0] for row in con.execute(select, (at,))]
                if not ids:
                    con.execute("COMMIT")
                    break
                flagged = con.execute(
                    f"UPDATE cases SET {flag} = 1 WHERE id IN ({','.join('?' * len(ids))}) AND {plus}{flag} = 0 "
                    f"AND {plus}is_open = 1 AND sla_paused_at IS NULL AND {plus}{due} < ?"
                    f"{extra.replace(' first', ' ' + plus + 'first')} RETURNING id, {due}",
                    (*ids, at)).fetchall()
                if flagged:
                    con.executemany(
                        "INSERT INTO case_events (case_id, kind, actor_id, body, data, internal, created_at) "
                        "VALUES (?, 'sla_breach', NULL, '', ?, 0, ?)",
                        [(case_id, json.dumps({"target": target,
                                               "due": datetime.fromisoformat(due_at).replace(tzinfo=UTC).isoformat()}),
                          at) for case_id, due_at in flagged])
                con.execute("COMMIT")
                done += len(flagged)
                total += len(flagged)
                if len(ids) < SWEEP_BATCH:
                    break
        return total

    passes, flagged = [], 0
    t0 = time.perf_counter()
    while True:
        p0 = time.perf_counter()
        n = one_pass()
        passes.append({"s": round(time.perf_counter() - p0, 3), "total": n})
        flagged += n
        if n == 0:
            break
    catch_up = time.perf_counter() - t0
    idle_times = []
    for _ in range(idle):
        p0 = time.perf_counter()
        assert one_pass() == 0
        idle_times.append(time.perf_counter() - p0)
    con.close()
    return {"seconds": catch_up, "flagged": flagged, "passes": passes, "idle": idle_times}


def sweep_plans(db: Path, captured: list[tuple[str, tuple[Any, ...]]]) -> list[dict[str, Any]]:
    """The plan of each distinct statement the sweep ran on ``cases`` (first occurrence)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    seen, out = set(), []
    try:
        for sql, params in captured:
            shape = " ".join(sql.split())
            if "cases" not in shape or shape.startswith("INSERT"):
                continue
            key = shape.split(" WHERE ")[0] + shape.split(" WHERE ")[-1][:60]
            if key in seen:
                continue
            seen.add(key)
            plan = [row[3] for row in con.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            out.append({"sql": shape[:400], "plan": plan})
    finally:
        con.close()
    return out


def bench_sweep(cases: int, seed: int, rounds: int, idle: int) -> dict[str, Any]:
    from linkdesk.server.sla import SWEEP_BATCH, SWEEP_LIMIT

    base = OUT / f"sla-desk-{cases}"
    generation = ensure_desk(base, cases, seed)
    made_at = datetime.fromisoformat(generation["made_at"])
    now = made_at + timedelta(days=1)
    counts = overdue_counts(base / "desk.db", now)
    log(f"sweep: {counts['open']:,} open cases; at made_at + 1 day {counts['resolution_overdue']:,} "
        f"resolutions and {counts['first_response_overdue']:,} first responses overdue")
    runs: dict[str, list[dict[str, Any]]] = {"product": [], "floor": [], "floor (update by rowid)": []}
    plans: list[dict[str, Any]] = []
    order = list(runs)
    for r in range(rounds):
        for name in order[r % 3:] + order[:r % 3]:
            work = copy_desk(base, OUT / f"sla-sweep-{name.split()[0]}")
            if name == "product":
                run = sweep_product(work, now, idle)
            else:
                run = sweep_floor(work, now, idle, by_rowid=name != "floor")
            if name == "product" and not plans:
                plans = sweep_plans(work / "desk.db", run["captured"])
            run.pop("captured", None)
            expected = counts["resolution_overdue"] + counts["first_response_overdue"]
            if run["flagged"] != expected:
                raise SystemExit(f"sweep {name}: flagged {run['flagged']:,}, expected {expected:,}")
            events = sqlite3.connect(work / "desk.db").execute(
                "SELECT count(*) FROM case_events WHERE kind = 'sla_breach'").fetchone()[0]
            if events != expected:
                raise SystemExit(f"sweep {name}: {events:,} sla_breach events, expected {expected:,}")
            runs[name].append(run)
            log(f"  sweep round {r + 1}/{rounds}: {name} flagged {run['flagged']:,} in {run['seconds']:.2f} s "
                f"({len(run['passes'])} passes), idle pass {statistics.median(run['idle']) * 1000:.2f} ms")
    for name in ("product", "floor"):
        shutil.rmtree(OUT / f"sla-sweep-{name}", ignore_errors=True)
    out: dict[str, Any] = {"cases": cases, "generation": generation, "now": now.isoformat(), **counts,
                           "sweep_batch": SWEEP_BATCH, "sweep_limit": SWEEP_LIMIT, "rounds": rounds}
    for name, series in runs.items():
        seconds = statistics.median(run["seconds"] for run in series)
        idle_all = sorted(t for run in series for t in run["idle"])
        out[name] = {
            "catch_up_s": round(seconds, 3), "all_s": [round(run["seconds"], 3) for run in series],
            "cases_per_s": round(series[0]["flagged"] / seconds), "passes": series[0]["passes"],
            "idle_median_ms": round(statistics.median(idle_all) * 1000, 3),
            "idle_p95_ms": round(idle_all[max(0, int(len(idle_all) * 0.95 + 0.5) - 1)] * 1000, 3),
        }
    out["ratio_catch_up"] = round(out["product"]["catch_up_s"] / out["floor"]["catch_up_s"], 2)
    out["ratio_idle"] = round(out["product"]["idle_median_ms"] / out["floor"]["idle_median_ms"], 2)
    out["ratio_catch_up_to_rowid_floor"] = round(
        out["product"]["catch_up_s"] / out["floor (update by rowid)"]["catch_up_s"], 2)
    con = sqlite3.connect(f"file:{base / 'desk.db'}?mode=ro", uri=True)
    out["floor_update_plans"] = {
        name: [row[3] for row in con.execute(
            f"EXPLAIN QUERY PLAN UPDATE cases SET sla_breached = 1 WHERE id IN ({','.join('?' * 500)}) "
            f"AND {plus}sla_breached = 0 AND {plus}is_open = 1 AND sla_paused_at IS NULL AND {plus}sla_due_at < ?",
            (*range(1, 501), stored(now)))]
        for name, plus in (("floor", ""), ("floor (update by rowid)", "+"))}
    con.close()
    out["plans"] = plans
    selects = [p for p in plans if p["sql"].startswith("SELECT")]
    out["watch_indexes_used"] = {
        index: any(index in step for p in selects for step in p["plan"])
        for index in ("ix_cases_sla_watch", "ix_cases_first_response_watch")
    }
    return out


# -- the run ---------------------------------------------------------------------------


def print_table(result: dict[str, Any]) -> None:
    due = result.get("due_dates")
    if due:
        log(f"\ndue dates, {due['receipts']:,} receipts; CPU ms per pass (µs each):")
        for name, row in due["passes"].items():
            log(f"  {name:26} {row['cpu_ms']:8.1f} ({row['us_each_cpu']:.2f})   wall {row['wall_ms']:.1f}")
        for name, ratio in due["ratios"].items():
            log(f"  {name:30} {ratio['median']:.2f}× (chunks {ratio['min']:.2f}-{ratio['max']:.2f})")
        if "cold" in due:
            log(f"  cold: {due['cold']}")
    sweep = result.get("sweep")
    if sweep:
        log(f"\nsweep, {sweep['cases']:,} cases, {sweep['open']:,} open: "
            f"{sweep['resolution_overdue']:,} + {sweep['first_response_overdue']:,} overdue")
        for name in ("product", "floor", "floor (update by rowid)"):
            row = sweep[name]
            log(f"  {name:8} catch-up {row['catch_up_s']:.2f} s ({row['cases_per_s']:,} cases/s, "
                f"{len(row['passes'])} passes), idle pass {row['idle_median_ms']:.2f} ms (p95 {row['idle_p95_ms']:.2f})")
        log(f"  ratio catch-up {sweep['ratio_catch_up']} (to the rowid floor "
            f"{sweep['ratio_catch_up_to_rowid_floor']}), idle {sweep['ratio_idle']}; "
            f"watch indexes used: {sweep['watch_indexes_used']}")
        for plan in sweep["plans"]:
            log(f"    {plan['sql'][:110]}…\n      {plan['plan']}")
        log(f"  floor UPDATE plans: {sweep['floor_update_plans']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receipts", type=int, default=20_000, help="receipt moments for the due dates")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--chunk", type=int, default=2_000)
    parser.add_argument("--cases", type=int, default=100_000, help="cases in the sweep's desk")
    parser.add_argument("--sweep-rounds", type=int, default=3, help="rounds (each: product, floor, rowid floor)")
    parser.add_argument("--idle", type=int, default=20, help="sweep passes with nothing to flag, per round")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--only", action="append", choices=["due", "sweep"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    parts = args.only or ["due", "sweep"]
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"), "load_before": os.getloadavg(),
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    t0 = time.perf_counter()
    if "due" in parts:
        result["due_dates"] = bench_due_dates(args.receipts, args.seed, args.rounds, args.chunk)
        result["due_dates"]["cold"] = cold_first_call()
    if "sweep" in parts:
        result["sweep"] = bench_sweep(args.cases, args.seed, args.sweep_rounds, args.idle)
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["load_after"] = os.getloadavg()
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print_table(result)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
