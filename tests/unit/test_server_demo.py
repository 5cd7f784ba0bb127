"""The demo generators: valid ID numbers and mobile numbers, deterministic seeding, and
the registry agreeing with the desk (recycled numbers re-issued, noticed or not)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from linkdesk.domain.cases import CaseCategory, CaseStatus, Priority
from linkdesk.domain.intel import Reassigned
from linkdesk.domain.phones import normalise
from linkdesk.intel import sandbox
from linkdesk.server import demo_data
from linkdesk.server.crypto import KeyRing, aad
from linkdesk.server.data_keys import is_under_data_key, open_sealed
from linkdesk.server.db import make_engine, migrate
from linkdesk.server.demo import bulk_generate, seed_demo

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_id_numbers_have_valid_check_digits() -> None:
    rng = random.Random(1)
    assert demo_data.id_check_digit("11010519491231002") == "X"  # GB 11643 example
    for _ in range(200):
        number = demo_data.id_number(rng)
        assert len(number) == 18 and number[-1] == demo_data.id_check_digit(number[:17])


def test_mobile_numbers_are_valid_and_unique() -> None:
    rng, taken = random.Random(2), set()
    numbers = [demo_data.mobile_number(rng, taken) for _ in range(300)]
    assert len(set(numbers)) == 300
    assert all(normalise(n) == n and n.startswith("+861") for n in numbers)


def test_seed_is_deterministic_and_covers_everything(tmp_path: Path) -> None:
    summaries = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        migrate(url)
        engine = make_engine(url)
        ring = KeyRing(b"s" * 32)
        summaries.append(seed_demo(engine, ring, cases=400, borrowers=120, now=NOW))
        with engine.connect() as conn:
            cats = set(conn.execute(sa.text("SELECT DISTINCT category FROM cases")).scalars())
            statuses = set(conn.execute(sa.text("SELECT DISTINCT status FROM cases")).scalars())
            prios = set(conn.execute(sa.text("SELECT DISTINCT priority FROM cases")).scalars())
            unassigned = conn.execute(sa.text("SELECT count(*) FROM cases WHERE assignee_id IS NULL")).scalar()
            overdue = conn.execute(sa.text(
                "SELECT count(*) FROM cases WHERE is_open AND sla_due_at < :now"), {"now": NOW.replace(tzinfo=None)}
            ).scalar()
            recycled_ok = conn.execute(sa.text(
                "SELECT count(*) FROM cases c JOIN phone_bindings b ON b.id = c.binding_id "
                "WHERE c.category = 'recycled_number' AND b.status NOT IN ('reassigned', 'active')")).scalar()
            recycled = conn.execute(sa.text(
                "SELECT count(*) FROM cases WHERE category = 'recycled_number' AND binding_id IS NOT NULL")).scalar()
            unnoticed = unnoticed_reissues(conn, ring)
            row = conn.execute(sa.text("SELECT id, phone_enc FROM cases WHERE phone_enc IS NOT NULL LIMIT 1")).one()
            number = open_sealed(conn, ring, row.phone_enc, aad("cases", "phone_enc", row.id))
        assert cats == {str(c) for c in CaseCategory}
        assert statuses == {str(s) for s in CaseStatus}
        assert prios == {str(p) for p in Priority}
        assert unassigned > 0 and overdue > 0 and recycled_ok == 0
        # up to one in four complaints is about a number still bound, re-issued unnoticed
        # (as many as borrowers without cases allow): complaints not worked past first contact
        assert 3 <= len(unnoticed) <= -(-recycled // 4)
        assert set(unnoticed.values()) <= {"new", "open"}
        assert normalise(number)
        engine.dispose()
    assert summaries[0] == summaries[1]
    assert any(n[:2] in demo_data.COMPOUND_SURNAMES for n in summaries[0].names)


def unnoticed_reissues(conn: sa.Connection, ring: KeyRing) -> dict[int, str]:
    """The recycled-number complaints about a binding still active (case id → status): the
    registry must say its number was re-issued after the binding began and before the
    complaint, as the first check and score say; the case's sealed number is the
    binding's, and its borrower has no other case."""
    found: dict[int, str] = {}
    rows = conn.execute(sa.text(
        "SELECT c.id, c.status, c.created_at, c.phone_enc AS case_phone, c.phone_index AS case_index, "
        "b.id AS binding_id, b.borrower_id, b.bound_at, b.phone_enc, b.phone_index, r.report, a.stop_contact "
        "FROM cases c JOIN phone_bindings b ON b.id = c.binding_id "
        "JOIN intel_reports r ON r.binding_id = b.id JOIN risk_assessments a ON a.binding_id = b.id "
        "WHERE c.category = 'recycled_number' AND b.status = 'active' ORDER BY c.id")).all()
    with Session(bind=conn) as session:
        for row in rows:
            number = open_sealed(conn, ring, row.phone_enc, aad("phone_bindings", "phone_enc", row.binding_id))
            assert open_sealed(conn, ring, row.case_phone, aad("cases", "phone_enc", row.id)) == number
            assert is_under_data_key(row.case_phone) and row.case_index == row.phone_index
            entry = sandbox.lookup(session, ring, number)
            assert entry is not None and entry.reissued_at is not None
            bound_at, created_at = as_utc(row.bound_at), as_utc(row.created_at)
            assert bound_at < as_utc(entry.reissued_at) < created_at <= NOW
            report = sandbox.evaluate(entry, reference_date=bound_at.date(), checked_at=NOW)
            assert report.reassigned == Reassigned.YES
            first = json.loads(row.report) if isinstance(row.report, str) else row.report
            assert first["reassigned"] == "yes" and row.stop_contact
            others = conn.scalar(sa.text("SELECT count(*) FROM cases WHERE borrower_id = :p"), {"p": row.borrower_id})
            assert others == 1
            found[row.id] = row.status
    return found


def as_utc(moment: datetime | str) -> datetime:
    """A stored moment (SQLite answers text to raw SQL) as an aware datetime."""
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_bulk_generate_keeps_tallies_right(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bulk.db'}"
    migrate(url)
    engine = make_engine(url)
    assert bulk_generate(engine, KeyRing(b"b" * 32), cases=3000, borrowers=200, batch=1000, now=NOW) == 3000
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM cases")).scalar() == 3000
        assert conn.execute(sa.text("SELECT sum(n) FROM case_tallies")).scalar() == 3000
        hits = conn.execute(sa.text("SELECT count(*) FROM case_fts WHERE case_fts MATCH '\"换号\"'")).scalar()
        truth = conn.execute(sa.text(
            "SELECT count(*) FROM cases WHERE instr(subject, '换号') OR instr(body, '换号')")).scalar()
    assert hits == truth > 0
    engine.dispose()


def test_seed_demo_if_empty_seeds_once(tmp_path: Path) -> None:
    from linkdesk.server.demo import seed_demo_if_empty

    url = f"sqlite:///{tmp_path / 'once.db'}"
    engine = make_engine(url)
    migrate(engine=engine)
    ring = KeyRing(b"o" * 32)
    assert seed_demo_if_empty(engine, ring, now=NOW, cases=50, borrowers=20) is not None
    assert seed_demo_if_empty(engine, ring, now=NOW, cases=50, borrowers=20) is None
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM cases")).scalar() == 50
    engine.dispose()
