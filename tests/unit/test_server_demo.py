"""The demo generators: valid ID numbers and mobile numbers, deterministic seeding."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from linkdesk.domain.cases import CaseCategory, CaseStatus, Priority
from linkdesk.domain.phones import normalise
from linkdesk.server import demo_data
from linkdesk.server.crypto import KeyRing, aad
from linkdesk.server.data_keys import open_sealed
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
                "WHERE c.category = 'recycled_number' AND b.status != 'reassigned'")).scalar()
            row = conn.execute(sa.text("SELECT id, phone_enc FROM cases WHERE phone_enc IS NOT NULL LIMIT 1")).one()
            number = open_sealed(conn, ring, row.phone_enc, aad("cases", "phone_enc", row.id))
        assert cats == {str(c) for c in CaseCategory}
        assert statuses == {str(s) for s in CaseStatus}
        assert prios == {str(p) for p in Priority}
        assert unassigned > 0 and overdue > 0 and recycled_ok == 0
        assert normalise(number)
        engine.dispose()
    assert summaries[0] == summaries[1]
    assert any(n[:2] in demo_data.COMPOUND_SURNAMES for n in summaries[0].names)


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
