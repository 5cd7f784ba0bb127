"""A realistic demo desk, and bulk data for benchmarks.

Both go through the same column logic as the API (``cases.case_values`` for tokens,
SLA and state, encryption with row-bound AAD, blind indexes, ``tallies.bump``) but
insert with executemany and pre-allocated ids, so 2,000 cases take a second or two
and a million a few minutes. Pre-allocating ids assumes nobody else writes meanwhile:
seed a desk that is not serving.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.orm import sessionmaker

from linkdesk.domain.borrowers import mask_id_number, mask_name
from linkdesk.domain.cases import CaseCategory
from linkdesk.domain.phones import BindingStatus, describe, last_four, mask
from linkdesk.server import demo_data as d
from linkdesk.server import sla, tallies
from linkdesk.server.cases import case_values
from linkdesk.server.crypto import KeyRing, aad
from linkdesk.server.data_keys import DataKeys
from linkdesk.server.demo_intel import DemoEvidence
from linkdesk.server.tables import (
    AgentRow,
    BindingRow,
    BorrowerKeyRow,
    BorrowerRow,
    CaseRow,
    EventRow,
    IntelReportRow,
    LifecycleRow,
    RiskAssessmentRow,
)

CATEGORY_WEIGHTS = {
    CaseCategory.REBIND: 22, CaseCategory.RECYCLED_NUMBER: 15, CaseCategory.IMPERSONATION: 10,
    CaseCategory.UNREACHABLE: 20, CaseCategory.PRIVACY_REQUEST: 8, CaseCategory.PRIVACY_INCIDENT: 4,
    CaseCategory.RISK_ALERT: 15, CaseCategory.EXPOSURE: 6,
}
STATUS_WEIGHTS = {"new": 15, "open": 20, "pending": 10, "on_hold": 5, "resolved": 25, "closed": 25}
PRIORITY_WEIGHTS = {"urgent": 8, "high": 22, "normal": 50, "low": 20}
STATUS_PATHS = {
    "new": [], "open": ["open"], "pending": ["open", "pending"], "on_hold": ["open", "on_hold"],
    "resolved": ["open", "resolved"], "closed": ["open", "resolved", "closed"],
}


@dataclass
class DemoSummary:
    agents: int = 0
    borrowers: int = 0
    bindings: int = 0
    cases: int = 0
    events: int = 0
    numbers: int = 0
    """Numbers in the sandbox's registry."""
    names: list[str] = field(default_factory=list)
    id_numbers: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    """The plaintexts that were encrypted: tests check none of them is stored in clear."""


@dataclass
class _Binding:
    id: int
    borrower_id: int
    status: str
    columns: dict[str, Any]  # phone_index, phone_masked, phone_last4 (shared by its cases)
    e164: str


def _engine_of(target: Engine | sessionmaker[Any]) -> Engine:
    return target if isinstance(target, Engine) else target.kw["bind"]


def _next_id(conn: Connection, table: Any) -> int:
    return int(conn.scalar(select(func.coalesce(func.max(table.id), 0))) or 0) + 1


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _fix_sequences(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table in ("agents", "borrowers", "phone_bindings", "cases", "case_events", "number_lifecycle"):
        conn.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                 f"(SELECT coalesce(max(id), 1) FROM {table}))")
        )


def _ensure_agents(conn: Connection, now: datetime) -> dict[str, int]:
    existing = dict(conn.execute(select(AgentRow.name, AgentRow.id)).all())
    new = [
        {"name": n, "display_name": dn, "role": role, "token_hash": None, "active": True,
         "created_at": now - timedelta(days=200)}
        for n, dn, role in d.AGENTS if n not in existing
    ]
    if new:
        conn.execute(insert(AgentRow.__table__), new)
    return dict(conn.execute(select(AgentRow.name, AgentRow.id)).all())


def _borrower_rows(
    conn: Connection, keyring: KeyRing, rng: random.Random, count: int, now: datetime,
    summary: DemoSummary, version: int | None = None, people: dict[int, tuple[str, str]] | None = None,
    data_keys: DataKeys | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[_Binding]]:
    """Borrowers with their number histories, as rows to insert (and who they are). Each
    borrower's data is sealed under a new data key; ``data_keys.issued`` holds the
    ``borrower_keys`` rows to insert after the borrowers."""
    data_keys = data_keys or DataKeys(keyring)
    borrower_id, binding_id = _next_id(conn, BorrowerRow), _next_id(conn, BindingRow)
    version = keyring.writing_version() if version is None else version
    taken: set[str] = set()
    borrowers, bindings, out = [], [], []
    for _ in range(count):
        name, id_number = d.person_name(rng), d.id_number(rng)
        summary.names.append(name)
        summary.id_numbers.append(id_number)
        if people is not None:
            people[borrower_id] = (name, id_number)
        created = now - timedelta(days=rng.uniform(400, 2200))
        data_keys.issue(borrower_id, version=version, now=created)
        borrowers.append({
            "id": borrower_id,
            "name_enc": data_keys.seal(borrower_id, name, aad("borrowers", "name_enc", borrower_id)),
            "name_masked": mask_name(name),
            "id_number_enc": data_keys.seal(
                borrower_id, id_number, aad("borrowers", "id_number_enc", borrower_id)
            ),
            "id_number_masked": mask_id_number(id_number),
            "created_at": created,
            "key_version": version,
        })
        n_bindings = rng.choices([1, 2, 3], weights=[55, 30, 15])[0]
        bound_at = created
        for index in range(n_bindings):
            e164 = d.mobile_number(rng, taken)
            summary.phones.append(e164)
            newest = index == n_bindings - 1
            unbound_at = None if newest else bound_at + timedelta(days=rng.uniform(60, 300))
            if unbound_at is not None:  # a history ends before the seed's time, in order
                unbound_at = min(unbound_at, now - timedelta(days=4 * (n_bindings - index)))
            if newest:
                status = BindingStatus.SUSPENDED if rng.random() < 0.08 else BindingStatus.ACTIVE
            else:
                status = BindingStatus.REASSIGNED if rng.random() < 0.45 else BindingStatus.UNBOUND
            carrier, region = describe(e164)
            columns = {"phone_index": keyring.blind_index(e164, version=version),
                       "phone_masked": mask(e164), "phone_last4": last_four(e164)}
            bindings.append({
                "id": binding_id, "borrower_id": borrower_id, "key_version": version,
                "phone_enc": data_keys.seal(borrower_id, e164, aad("phone_bindings", "phone_enc", binding_id)),
                "phone_index": columns["phone_index"], "phone_masked": columns["phone_masked"],
                "last4": columns["phone_last4"], "carrier": carrier, "region": region,
                "status": str(status), "bound_at": bound_at, "unbound_at": unbound_at,
            })
            out.append(_Binding(binding_id, borrower_id, str(status), columns, e164))
            binding_id += 1
            if unbound_at is not None:
                bound_at = unbound_at + timedelta(hours=rng.uniform(1, 72))
        borrower_id += 1
    summary.borrowers += len(borrowers)
    summary.bindings += len(bindings)
    return borrowers, bindings, out


def _seed_borrowers(
    conn: Connection, keyring: KeyRing, rng: random.Random, count: int, now: datetime,
    summary: DemoSummary, version: int | None = None,
) -> list[_Binding]:
    data_keys = DataKeys(keyring)
    borrowers, bindings, out = _borrower_rows(conn, keyring, rng, count, now, summary, version,
                                              data_keys=data_keys)
    conn.execute(insert(BorrowerRow.__table__), borrowers)
    conn.execute(insert(BorrowerKeyRow.__table__), data_keys.issued)
    conn.execute(insert(BindingRow.__table__), bindings)
    return out


def _load_bindings(conn: Connection) -> list[_Binding]:
    rows = conn.execute(
        select(BindingRow.id, BindingRow.borrower_id, BindingRow.status, BindingRow.phone_index,
               BindingRow.phone_masked, BindingRow.last4)
    ).all()
    return [
        _Binding(r.id, r.borrower_id, r.status,
                 {"phone_index": r.phone_index, "phone_masked": r.phone_masked, "phone_last4": r.last4},
                 "")
        for r in rows
    ]


def _choose_binding(rng: random.Random, category: CaseCategory, current: list[_Binding],
                    recycled: list[_Binding]) -> _Binding | None:
    if category is CaseCategory.RECYCLED_NUMBER and recycled:
        return rng.choice(recycled)
    if category in (CaseCategory.PRIVACY_INCIDENT, CaseCategory.EXPOSURE) and rng.random() < 0.4:
        return None
    return rng.choice(current)


def _case_row(rng: random.Random, case_id: int, binding: _Binding | None, keyring: KeyRing | None,
              agent_ids: list[int], now: datetime, *, status: str | None = None,
              texts: list[tuple[str, str, CaseCategory]] | None = None) -> dict[str, Any]:
    category = _pick(rng, CATEGORY_WEIGHTS)
    if texts:
        subject, body, category = rng.choice(texts)
    else:
        subject, body = d.case_text(rng, category)
    status = status or _pick(rng, STATUS_WEIGHTS)
    priority = _pick(rng, PRIORITY_WEIGHTS)
    if status in ("resolved", "closed"):
        created = now - timedelta(days=rng.uniform(1, 90))
    else:  # open work is mostly recent, so due dates fall around now, some overdue
        created = now - timedelta(hours=min(rng.expovariate(1 / 40), 24 * 90))
    values = case_values(
        category=category, status=status, priority=priority, subject=subject, body=body,
        created_at=created, updated_at=created,
        borrower_id=binding.borrower_id if binding else None,
        binding_id=binding.id if binding else None,
        assignee_id=None if rng.random() < 0.15 else rng.choice(agent_ids),
        tags=rng.sample(["vip", "复核", "escalated", "短信", "外呼"], rng.randint(0, 2)),
    )
    values["id"] = case_id
    if binding is not None and keyring is not None:
        values["phone_enc"] = keyring.encrypt(binding.e164, aad("cases", "phone_enc", case_id))
        values.update(binding.columns)
    else:
        values.update(phone_enc=None, phone_index=None, phone_masked=None, phone_last4=None)
    return values


def _timeline(rng: random.Random, row: dict[str, Any], agent_ids: list[int], now: datetime) -> list[dict[str, Any]]:
    actor = row["assignee_id"] or rng.choice(agent_ids)
    at = row["created_at"]
    events = [{"case_id": row["id"], "kind": "created", "actor_id": rng.choice(agent_ids),
               "body": "", "data": {}, "internal": False, "created_at": at}]
    steps: list[tuple[str, Any]] = []
    previous = "new"
    for status in STATUS_PATHS[row["status"]]:
        steps.append(("status", {"from": previous, "to": status}))
        previous = status
    extra = rng.randint(0, max(0, 5 - len(steps)))
    for _ in range(extra):
        steps.insert(rng.randint(0, len(steps)), rng.choice([("comment", None), ("note", None)]))
    span = max((now - at).total_seconds(), 60.0)
    for kind, data in steps[:5]:
        at = min(at + timedelta(seconds=rng.uniform(60, span / (len(steps) + 1))), now)
        body = rng.choice(d.COMMENTS) if kind == "comment" else rng.choice(d.NOTES) if kind == "note" else ""
        events.append({"case_id": row["id"], "kind": kind, "actor_id": actor, "body": body,
                       "data": data or {}, "internal": kind == "note", "created_at": at})
    row["updated_at"] = at
    row["version"] = len(events)
    return events


def seed_demo(
    target: Engine | sessionmaker[Any],
    keyring: KeyRing,
    *,
    cases: int = 2000,
    borrowers: int = 800,
    seed: int = 42,
    now: datetime,
) -> DemoSummary:
    """Agents, borrowers with number histories, cases with timelines, and the sandbox
    registry with every number's first check and score (:mod:`demo_intel`). Deterministic.

    Most ``recycled_number`` cases are about a binding already ended as ``reassigned``;
    up to one in four (``new`` or ``open`` ones, as many as borrowers without cases
    allow) is about a number still bound that the carrier re-issued unnoticed, so the
    recycled-number playbook runs its whole course on it (chosen by their own random
    stream in :meth:`DemoEvidence.finish`: the rest is as it was)."""
    rng = random.Random(seed)
    summary = DemoSummary()
    with _engine_of(target).begin() as conn:
        agents = _ensure_agents(conn, now)
        summary.agents = len(agents)
        agent_ids = [agents[name] for name, _, _ in d.AGENTS]
        version = keyring.writing_version()  # one for the whole seed: cases share binding indexes
        people: dict[int, tuple[str, str]] = {}
        data_keys = DataKeys(keyring)
        borrower_rows, binding_rows, bindings = _borrower_rows(
            conn, keyring, rng, borrowers, now, summary, version, people, data_keys
        )
        current = [b for b in bindings if b.status in ("active", "suspended")]
        recycled = [b for b in bindings if b.status == "reassigned"]
        evidence = DemoEvidence(
            random.Random(seed * 7919 + 1), now, keyring, version, binding_rows,
            {b.id: b.e164 for b in bindings}, people, summary,
            aside=random.Random(seed * 7919 + 2),  # the unnoticed re-issues: no draw of the others
        )
        evidence.data_keys = data_keys
        case_id = _next_id(conn, CaseRow)
        rows, events = [], []
        for _ in range(cases):
            row = _case_row(rng, case_id, None, None, agent_ids, now)
            row["key_version"] = version
            binding = _choose_binding(rng, CaseCategory(row["category"]), current, recycled)
            if binding is not None:
                row.update(borrower_id=binding.borrower_id, binding_id=binding.id,
                           phone_enc=data_keys.seal(binding.borrower_id, binding.e164,
                                                    aad("cases", "phone_enc", case_id)),
                           **binding.columns)
                evidence.for_case(row["category"], row["subject"], binding.id)
            events.extend(_timeline(rng, row, agent_ids, now))
            rows.append(row)
            case_id += 1
        extra = evidence.finish(
            next_binding_id=_next_id(conn, BindingRow) + len(binding_rows),
            next_lifecycle_id=_next_id(conn, LifecycleRow), cases=rows,
        )
        conn.execute(insert(BorrowerRow.__table__), borrower_rows)
        conn.execute(insert(BorrowerKeyRow.__table__), data_keys.issued)
        conn.execute(insert(BindingRow.__table__), binding_rows + extra.bindings)
        conn.execute(insert(LifecycleRow.__table__), extra.lifecycle)
        conn.execute(insert(IntelReportRow.__table__), extra.reports)
        conn.execute(insert(RiskAssessmentRow.__table__), extra.assessments)
        summary.bindings += len(extra.bindings)
        summary.numbers = len(extra.lifecycle)
        for row in rows:
            row["risk_score"] = extra.case_risk(row.get("borrower_id"), row.get("binding_id"))
        _insert_cases(conn, rows)
        conn.execute(insert(EventRow.__table__), events)
        sla.backfill(conn)  # issue 5: first responses and pauses from the timelines
        _fix_sequences(conn)
    summary.cases, summary.events = len(rows), len(events)
    return summary


def _insert_cases(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(CaseRow.__table__), rows)
    deltas = Counter(
        tallies.key(r["category"], r["status"], r["priority"], r["assignee_id"]) for r in rows
    )
    tallies.bump(conn, deltas)


def bulk_generate(
    target: Engine | sessionmaker[Any],
    keyring: KeyRing,
    *,
    cases: int,
    seed: int = 7,
    now: datetime,
    borrowers: int = 5000,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add ``cases`` cases (no timelines) for benchmarks; seeds borrowers if there are none.

    Texts come from a pool made with the same generator, so tokens are computed once
    per text; each case still gets its own ciphertext (the AAD names its row).
    """
    rng = random.Random(seed)
    engine = _engine_of(target)
    with engine.begin() as conn:
        agents = _ensure_agents(conn, now)
        agent_ids = [agents[name] for name, _, _ in d.AGENTS]
        if conn.scalar(select(func.count()).select_from(BindingRow)) == 0:
            _seed_borrowers(conn, keyring, rng, borrowers, now, DemoSummary())
    with engine.connect() as conn:
        bindings = _load_bindings(conn)
    by_id = {b.id: b for b in bindings}
    version = keyring.writing_version()
    with engine.begin() as conn:  # decrypt each number once, to re-encrypt per case
        data_keys = DataKeys(keyring, conn)
        data_keys.preload()
        for row in conn.execute(select(BindingRow.id, BindingRow.phone_enc)):
            binding = by_id[row.id]
            binding.e164 = data_keys.open(row.phone_enc, aad("phone_bindings", "phone_enc", row.id))
            binding.columns["phone_index"] = keyring.blind_index(binding.e164, version=version)
    current = [b for b in bindings if b.status in ("active", "suspended")] or bindings
    recycled = [b for b in bindings if b.status == "reassigned"]
    pool = []
    for _ in range(2000):
        category = _pick(rng, CATEGORY_WEIGHTS)
        subject, body = d.case_text(rng, category)
        pool.append((subject, body, category))
    done = 0
    while done < cases:
        size = min(batch, cases - done)
        with engine.begin() as conn:
            case_id = _next_id(conn, CaseRow)
            rows = []
            for offset in range(size):
                row = _case_row(rng, case_id + offset, None, None, agent_ids, now, texts=pool)
                row["key_version"] = version
                binding = _choose_binding(rng, CaseCategory(row["category"]), current, recycled)
                if binding is not None:
                    row.update(borrower_id=binding.borrower_id, binding_id=binding.id,
                               phone_enc=data_keys.seal(binding.borrower_id, binding.e164,
                                                        aad("cases", "phone_enc", row["id"])),
                               **binding.columns)
                rows.append(row)
            _insert_cases(conn, rows)
            _fix_sequences(conn)
        done += size
        if progress:
            progress(done)
    return done


def seed_demo_if_empty(
    target: Engine | sessionmaker[Any], keyring: KeyRing, *, now: datetime, **options: Any
) -> DemoSummary | None:
    """:func:`seed_demo` on a desk that has no cases yet; None when it had some."""
    with _engine_of(target).connect() as conn:
        if conn.scalar(select(CaseRow.id).limit(1)) is not None:
            return None
    return seed_demo(target, keyring, now=now, **options)
