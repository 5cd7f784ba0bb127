"""Paging benchmark (placeholder, being written)."""
from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def case_count(db: Path) -> int:
    import sqlite3

    if not db.exists():
        return -1
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT count(*) FROM cases").fetchone()[0])
    except sqlite3.Error:
        return -1
    finally:
        con.close()


def ensure_desk(desk: Path, cases: int) -> dict:
    from linkdesk.server.runner import DATABASE_FILE, embedded_settings, prepare_desk

    db = desk / DATABASE_FILE
    have = case_count(db)
    if have == cases:
        print(f"reusing {db} ({cases:,} cases)", file=sys.stderr)
        return {"generated": False, "seconds": None}
    if have >= 0:
        print(f"{db} has {have:,} cases, not {cases:,}: regenerating", file=sys.stderr)
        for name in ("desk.db", "desk.db-wal", "desk.db-shm"):
            (desk / name).unlink(missing_ok=True)
    desk.mkdir(parents=True, exist_ok=True)
    settings = embedded_settings(desk)
    prepare_desk(settings)
    from linkdesk.server.crypto import KeyRing
    from linkdesk.server.db import make_engine
    from linkdesk.server.demo import bulk_generate

    keyring = KeyRing.load(master_key=settings.master_key, key_file=settings.key_file)
    engine = make_engine(settings.database_url)
    start = time.perf_counter()

    def progress(done: int) -> None:
        if done % 50_000 == 0 or done == cases:
            el = time.perf_counter() - start
            eta = el / done * (cases - done)
            print(f"  generated {done:>9,}/{cases:,}  {el:6.0f} s  eta {eta:5.0f} s", file=sys.stderr, flush=True)

    try:
        bulk_generate(engine, keyring, cases=cases, now=datetime.now(UTC), progress=progress)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return {"generated": True, "seconds": round(time.perf_counter() - start, 1)}


if __name__ == "__main__":
    n = int(sys.argv[1])
    print(ensure_desk(OUT / f"desk-{n}", n))
