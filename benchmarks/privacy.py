"""What privacy by construction (issue 3) costs, each figure against a floor timed in the same run.

Five figures, on SQLite files in ``benchmarks/out/`` made by the migrations:

1. **Audit append.** ``linkdesk.server.audit.append`` + commit, one session and one
   transaction per record (as the API records one audited action per request).
   Floor: a raw ``sqlite3`` INSERT of the same row into a table shaped like
   ``audit_records`` (same columns and indexes) + commit, same file, same pragmas.
   Also timed: the chain protocol by hand (``UPDATE audit_head … RETURNING``,
   canonical bytes + SHA-256, ``UPDATE`` of the head hash, INSERT, commit).
2. **Chain verification.** ``linkdesk.server.chain.verify(session)`` over a chain of
   ``--records`` records (built once with ``audit.append`` in transactions of 5,000,
   cached). Floor: a raw ``sqlite3`` SELECT of every row, its canonical bytes
   (``linkdesk.domain.audit.canonical``) and SHA-256, links compared.
3. **Reveal.** ``POST /api/v1/cases/{ref}/reveal`` (phone) in-process over
   ``httpx.ASGITransport``, rotating over open cases with a number, against
   ``GET /api/v1/cases/{ref}`` of the same case in the same round (the read floor).
4. **Key rotation.** ``linkdesk.server.rotation.begin(grace=0)`` + ``rotate`` over a copy
   of the desk (``--borrowers`` borrowers, their bindings, ``--cases`` cases). Floor:
   the same decrypt + encrypt (+ HMAC for numbers) with ``cryptography``'s AESGCM and a
   raw ``sqlite3`` ``UPDATE … WHERE id = ?`` per row, batches of 500 by id, one
   transaction per batch, on another fresh copy.
5. **Blind index lookup.** ``POST /api/v1/cases`` with the ``phone`` of an active binding
   (looked up through ``phone_index IN (…)``, then decrypted to confirm) against the same
   request without ``phone``, and with ``borrower`` set to that number's borrower (the
   same answer shape, without a number). For context, the lookup by hand (HMAC, raw
   SELECT, AES-GCM decrypt) is timed too.

The desk (``benchmarks/out/privacy-desk-<B>b-<C>c/``: migrations, keys from
``prepare_desk``, ``demo.bulk_generate``) is generated once and cached; every part that
writes works on a fresh copy of it. Per-request figures: warm-up, then interleaved
rounds (order rotating); median, p95 (nearest rank). Absolute ms on a shared 2-core VM
are noise: compare the ratios (product time / floor time).

    python benchmarks/privacy.py [--borrowers 32000] [--cases 50000] [--records 100000] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import math
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000", "synchronous=NORMAL")
NOTE = "客户来电，核对本人号码"  # a reveal's free text, as an agent would type it


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def open_sqlite(db: Path) -> sqlite3.Connection:
    """Python's sqlite3 with the desk's pragmas (``linkdesk.server.db._sqlite_pragmas``),
    in autocommit mode: transactions are begun explicitly."""
    con = sqlite3.connect(db, isolation_level=None)
    for pragma in PRAGMAS:
        con.execute(f"PRAGMA {pragma}")
    return con


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 4),
        "p95_ms": round(p95 * 1000, 4),
        "min_ms": round(ordered[0] * 1000, 4),
        "max_ms": round(ordered[-1] * 1000, 4),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 4),
        "n": len(ordered),
    }


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def settle(db: Path) -> None:
    """Fold the WAL into the file, so that copying the file copies the database."""
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def derive(master: bytes, purpose: bytes) -> bytes:
    """HKDF-SHA256 as ``linkdesk.server.crypto`` derives its keys (for the floors)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def master_key(desk: Path, version: int = 1) -> bytes:
    from linkdesk.server.crypto import parse_keys

    return parse_keys((desk / "master.key").read_text(encoding="ascii"), "master.key")[version]


# -- the desk --------------------------------------------------------------------------


def desk_counts(db: Path) -> dict[str, int] | None:
    if not db.exists():
        return None
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("borrowers", "phone_bindings", "cases", "audit_records")}
    except sqlite3.Error:
        return None
    finally:
        con.close()


def ensure_desk(borrowers: int, cases: int) -> tuple[Path, dict[str, Any]]:
    """``benchmarks/out/privacy-desk-<B>b-<C>c/`` with exactly that many borrowers and
    cases and no audit records (cached; never written to by the benchmark)."""
    from linkdesk.server.runner import DATABASE_FILE, embedded_settings, prepare_desk

    desk = OUT / f"privacy-desk-{borrowers}b-{cases}c"
    db = desk / DATABASE_FILE
    have = desk_counts(db)
    if have and have["borrowers"] == borrowers and have["cases"] == cases and have["audit_records"] == 0:
        log(f"reusing {desk} ({borrowers:,} borrowers, {have['phone_bindings']:,} bindings, {cases:,} cases)")
        return desk, {"generated": False, "seconds": None}
    if desk.exists():
        shutil.rmtree(desk)
    desk.mkdir(parents=True)
    settings = embedded_settings(desk)
    keyring = prepare_desk(settings)  # migrations; a new key file, registered (index length)

    from linkdesk.server.db import make_engine, refresh_statistics
    from linkdesk.server.demo import bulk_generate

    log(f"generating {borrowers:,} borrowers and {cases:,} cases into {desk} "
        f"(about {borrowers * 1.3e-3 + cases * 0.25e-3:.0f} s)")
    engine = make_engine(settings.database_url)
    start = time.perf_counter()
    try:
        bulk_generate(engine, keyring, cases=cases, borrowers=borrowers, now=datetime.now(UTC),
                      progress=lambda done: log(f"  {done:,} cases ({time.perf_counter() - start:.0f} s)")
                      if done % 10_000 == 0 else None)
        refresh_statistics(engine)
    finally:
        engine.dispose()
    settle(db)
    return desk, {"generated": True, "seconds": round(time.perf_counter() - start, 1)}


def copy_desk(base: Path, target: Path) -> Path:
    """A fresh copy of the cached desk (database and key file) to write on."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    settle(base / "desk.db")
    shutil.copyfile(base / "desk.db", target / "desk.db")
    shutil.copyfile(base / "master.key", target / "master.key")
    os.chmod(target / "master.key", 0o600)
    return target


# -- 1. audit append -------------------------------------------------------------------


def audit_fields(i: int, rng: random.Random) -> dict[str, Any]:
    """A reveal's record, varied like real ones."""
    case = rng.randint(1, 999_999)
    return {
        "actor": rng.choice(["wang.fang", "li.na", "zhang.wei", "chen.jing", "liu.yang"]),
        "action": "reveal",
        "target": f"LD-{case:06d}.phone" if i % 3 else f"B-{rng.randint(1, 99_999):06d}.name",
        "case": f"LD-{case:06d}",
        "reason": rng.choice(["borrower_on_line", "identity_verification", "fraud_investigation"]),
        "detail": {"field": "phone" if i % 3 else "name", "note": NOTE},
    }


def stored_at(at: datetime) -> str:
    """A UTC instant as SQLAlchemy stores a DateTime in SQLite."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def bench_append(appends: int, warmup: int, block: int) -> dict[str, Any]:
    from linkdesk.domain.audit import AuditAction, canonical, chain_hash
    from linkdesk.server import audit
    from linkdesk.server.db import make_engine, make_session_factory, migrate

    db = OUT / "privacy-append.db"
    remove_db(db)
    url = f"sqlite:///{db}"
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    con = open_sqlite(db)
    # the floor's table: audit_records' columns and indexes, no chain
    for (sql,) in con.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'audit_records' AND type IN ('table', 'index') "
        "AND sql IS NOT NULL ORDER BY type DESC"
    ).fetchall():
        con.execute(sql.replace("audit_records", "floor_records").replace("ix_audit_records", "ix_floor_records"))
    floor_seq = 0
    rng = random.Random(3)

    def product(fields: dict[str, Any], at: datetime) -> None:
        with factory() as session:
            audit.append(session, at=at, action=AuditAction(fields["action"]), **{
                k: v for k, v in fields.items() if k != "action"})
            session.commit()

    def by_hand(fields: dict[str, Any], at: datetime) -> None:
        """The chain protocol with sqlite3: lock and read the head, hash, write, commit."""
        con.execute("BEGIN")
        seq, prev = con.execute(
            "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").fetchone()
        digest = chain_hash(prev, canonical(seq=seq, at=at, **fields))
        con.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (digest,))
        con.execute(
            "INSERT INTO audit_records (seq, at, actor, action, target, case_ref, reason, detail, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, stored_at(at), fields["actor"], fields["action"], fields["target"],
             fields["case"], fields["reason"], json.dumps(fields["detail"]), prev, digest),
        )
        con.execute("COMMIT")

    def floor(fields: dict[str, Any], at: datetime) -> None:
        """An equally sized row, precomputed hashes included: the INSERT and the commit."""
        nonlocal floor_seq
        floor_seq += 1
        con.execute(
            "INSERT INTO floor_records (seq, at, actor, action, target, case_ref, reason, detail, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (floor_seq, stored_at(at), fields["actor"], fields["action"],
             fields["target"], fields["case"], fields["reason"], json.dumps(fields["detail"]),
             fields["prev"], fields["hash"]),
        )  # autocommit: one implicit transaction, committed, per statement

    series: dict[str, Callable[[dict[str, Any], datetime], None]] = {
        "floor": floor, "by_hand": by_hand, "product": product}
    samples: dict[str, list[float]] = {name: [] for name in series}
    at = datetime(2026, 11, 1, tzinfo=UTC)
    counter = 0

    def one(name: str) -> float:
        nonlocal counter, at
        counter += 1
        at += timedelta(milliseconds=1500)
        fields = audit_fields(counter, rng)
        if name == "floor":
            fields |= {"prev": hashlib.sha256(b"%d" % counter).hexdigest(),
                       "hash": hashlib.sha256(b"h%d" % counter).hexdigest()}
        t0 = time.perf_counter()
        series[name](fields, at)
        return time.perf_counter() - t0

    for name in series:
        for _ in range(warmup):
            one(name)
    rounds = math.ceil(appends / block)
    started = time.perf_counter()
    for index in range(rounds):
        names = list(series)
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            for _ in range(block):
                samples[name].append(one(name))
    elapsed = time.perf_counter() - started
    with factory() as session:
        from linkdesk.server.chain import verify

        state = verify(session)
    con.close()
    engine.dispose()
    with open_sqlite(db) as check:
        rows = check.execute("SELECT count(*) FROM floor_records").fetchone()[0]
    if not state.intact:
        raise SystemExit(f"append: the chain does not verify: {state.broken}")
    result: dict[str, Any] = {"db": str(db), "chain_records_after": state.records, "floor_rows_after": rows,
                              "seconds": round(elapsed, 1)}
    for name, values in samples.items():
        result[name] = stats(values) | {"records_per_s": round(len(values) / sum(values))}
    result["ratio"] = round(result["product"]["median_ms"] / result["floor"]["median_ms"], 2)
    result["ratio_mean"] = round(result["product"]["mean_ms"] / result["floor"]["mean_ms"], 2)
    result["ratio_by_hand"] = round(result["by_hand"]["median_ms"] / result["floor"]["median_ms"], 2)
    return result


# -- 2. chain verification -------------------------------------------------------------


def ensure_chain(records: int) -> tuple[Path, dict[str, Any]]:
    """``benchmarks/out/privacy-chain-<N>.db``: a migrated database whose audit chain holds
    exactly ``records`` records, appended with ``audit.append`` 5,000 per transaction."""
    from linkdesk.domain.audit import AuditAction
    from linkdesk.server import audit
    from linkdesk.server.db import make_engine, make_session_factory, migrate

    db = OUT / f"privacy-chain-{records}.db"
    if db.exists():
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            have = con.execute("SELECT count(*), (SELECT seq FROM audit_head) FROM audit_records").fetchone()
        except sqlite3.Error:
            have = None
        finally:
            con.close()
        if have == (records, records):
            log(f"reusing {db} ({records:,} records)")
            return db, {"built": False, "seconds": None}
    remove_db(db)
    url = f"sqlite:///{db}"
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rng = random.Random(5)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    log(f"building a chain of {records:,} records in {db}")
    start = time.perf_counter()
    done = 0
    try:
        while done < records:
            with factory() as session:
                for _ in range(min(5000, records - done)):
                    done += 1
                    at += timedelta(seconds=rng.uniform(1, 60))
                    fields = audit_fields(done, rng)
                    audit.append(session, at=at, action=AuditAction(fields.pop("action")), **fields)
                session.commit()
            if done % 20_000 == 0:
                log(f"  {done:,} records ({time.perf_counter() - start:.0f} s)")
    finally:
        engine.dispose()
    settle(db)
    return db, {"built": True, "seconds": round(time.perf_counter() - start, 1)}


def bench_verify(db: Path, records: int, rounds: int) -> dict[str, Any]:
    from linkdesk.domain.audit import GENESIS_HASH, canonical
    from linkdesk.server.chain import verify
    from linkdesk.server.db import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{db}")
    factory = make_session_factory(engine)

    def product() -> int:
        with factory() as session:
            state = verify(session)
        if not state.intact or state.records != records:
            raise SystemExit(f"verify: {state.records} records, intact={state.intact}: {state.broken}")
        return state.records

    def floor() -> int:
        con = open_sqlite(db)
        try:
            prev = GENESIS_HASH
            expected = 1
            sha256, loads, parse = hashlib.sha256, json.loads, datetime.fromisoformat
            for seq, at, actor, action, target, case, reason, detail, prev_hash, digest in con.execute(
                "SELECT seq, at, actor, action, target, case_ref, reason, detail, prev_hash, hash "
                "FROM audit_records ORDER BY seq"
            ):
                encoded = canonical(seq=seq, at=parse(at), actor=actor, action=action, target=target,
                                    case=case, reason=reason, detail=loads(detail))
                if (seq != expected or prev_hash != prev
                        or sha256(prev.encode("ascii") + encoded).hexdigest() != digest):
                    raise SystemExit(f"floor: the chain breaks at {seq}")
                prev = digest
                expected += 1
        finally:
            con.close()
        return expected - 1

    calls = {"floor": floor, "product": product}
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for name, call in calls.items():  # warm-up: one walk each (the file into the page cache)
        assert call() == records
    for index in range(rounds):
        names = list(calls)[index % 2:] + list(calls)[:index % 2]
        for name in names:
            t0 = time.perf_counter()
            calls[name]()
            samples[name].append(time.perf_counter() - t0)
        log(f"  verify: round {index + 1}/{rounds}: product {samples['product'][-1]:.2f} s, "
            f"floor {samples['floor'][-1]:.2f} s")
    engine.dispose()
    result: dict[str, Any] = {"db": str(db), "records": records,
                              "db_bytes": db.stat().st_size, "rounds": rounds}
    for name, values in samples.items():
        median = statistics.median(values)
        result[name] = {"median_s": round(median, 3), "max_s": round(max(values), 3),
                        "all_s": [round(v, 3) for v in values],
                        "records_per_s": round(records / median)}
    result["ratio"] = round(result["product"]["median_s"] / result["floor"]["median_s"], 2)
    return result


# -- 3. and 5. the API: reveal, create with a number -----------------------------------


async def bench_api(base: Path, work: Path, requests: int, warmup: int, spread: int) -> dict[str, Any]:
    import httpx

    from linkdesk.server.app import create_app
    from linkdesk.server.crypto import aad
    from linkdesk.server.runner import embedded_settings, prepare_desk

    copy_desk(base, work)
    settings = embedded_settings(work)
    keyring = prepare_desk(settings)
    con = open_sqlite(work / "desk.db")
    rng = random.Random(11)
    open_refs = [f"LD-{r[0]:06d}" for r in con.execute(
        "SELECT id FROM cases WHERE is_open = 1 AND phone_enc IS NOT NULL ORDER BY id")]
    refs = rng.sample(open_refs, min(spread, len(open_refs)))
    active = con.execute(
        "SELECT id, phone_enc, borrower_id FROM phone_bindings WHERE status = 'active' ORDER BY id").fetchall()
    sample = rng.sample(active, min(spread, len(active)))
    from linkdesk.server.data_keys import DataKeys
    from linkdesk.server.db import make_engine

    sampler = make_engine(settings.database_url)
    with sampler.connect() as conn:  # the numbers are under their borrowers' data keys
        numbers = [DataKeys(keyring, conn).open(blob, aad("phone_bindings", "phone_enc", bid))
                   for bid, blob, _ in sample]
    sampler.dispose()
    owners = [f"B-{borrower:06d}" for _, _, borrower in sample]  # the same borrowers, by reference
    version = keyring.writing_version()
    bits = keyring.index_bits(version)
    bindings = con.execute("SELECT count(*) FROM phone_bindings").fetchone()[0]
    # how many active rows each lookup's IN (…) matches (1 + collisions)
    matched = [con.execute(
        "SELECT count(*) FROM phone_bindings WHERE phone_index IN (?) AND status = 'active'",
        (keyring.blind_index(n),)).fetchone()[0] for n in numbers]

    # the lookup by hand: HMAC, SELECT by index (with the borrower's wrapped data key),
    # unwrap, AES-GCM decrypt until the number matches
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    master = master_key(work)
    aead = AESGCM(derive(master, b"linkdesk field encryption v1"))
    index_key = derive(master, b"linkdesk blind index v1")

    def floor_lookup(e164: str) -> int:
        digest = hmac.new(index_key, e164.encode("ascii"), hashlib.sha256).digest()
        index = format(int.from_bytes(digest[:8], "big") >> (64 - bits), f"0{(bits + 3) // 4}x")
        for row_id, blob, owner, wrapped in con.execute(
            "SELECT b.id, b.phone_enc, b.borrower_id, k.wrapped_key FROM phone_bindings b "
            "LEFT JOIN borrower_keys k ON k.id = b.borrower_id WHERE b.phone_index IN (?) AND b.status = 'active' "
            "ORDER BY b.bound_at DESC, b.id DESC", (index,)
        ):
            where = f"phone_bindings.phone_enc:{row_id}".encode()
            if floor_open(aead, blob, where, owner, wrapped).decode() == e164:
                return row_id
        raise SystemExit(f"floor lookup: {e164} not found")

    assert keyring.blind_index(numbers[0]) == format(
        int.from_bytes(hmac.new(index_key, numbers[0].encode(), hashlib.sha256).digest()[:8], "big") >> (64 - bits),
        f"0{(bits + 3) // 4}x"), "the floor's key derivation differs from the product's"

    app = create_app(settings, keyring=keyring)
    out: dict[str, Any] = {"desk_copy": str(work), "index_bits": bits, "bindings": bindings,
                           "open_cases_with_number": len(open_refs), "cases_rotated_over": len(refs),
                           "numbers_rotated_over": len(numbers),
                           "lookup_rows_matched": {"mean": round(statistics.fmean(matched), 3),
                                                   "max": max(matched)}}
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), \
            httpx.AsyncClient(base_url="http://desk/api/v1", transport=transport) as http:
        r = await http.patch("/desk/settings", json={"reveal_limit_per_hour": 1000})
        r.raise_for_status()
        out["reveal_limit_per_hour"] = r.json()["reveal_limit_per_hour"]
        position = {"reveal": 0, "read": 0, "create_phone": 0, "create_owner": 0, "lookup_floor": 0}

        def nxt(name: str, pool: list[Any]) -> Any:
            item = pool[position[name] % len(pool)]
            position[name] += 1
            return item

        reveal_body = {"field": "phone", "reason": "borrower_on_line", "note": NOTE}
        create_body = {"category": "rebind", "subject": "客户来电要求核实绑定手机号",
                       "body": "客户称已更换手机号，需要核实原号码的绑定状态。", "priority": "normal"}
        seen_values: set[str] = set()

        async def reveal() -> None:
            r = await http.post(f"/cases/{nxt('reveal', refs)}/reveal", json=reveal_body)
            if r.status_code != 200:
                raise SystemExit(f"reveal: {r.status_code} {r.text}")
            seen_values.add(r.json()["value"][:3])

        async def read() -> None:
            r = await http.get(f"/cases/{nxt('read', refs)}")
            if r.status_code != 200:
                raise SystemExit(f"read: {r.status_code} {r.text}")
            r.json()

        async def create_phone() -> None:
            r = await http.post("/cases", json=create_body | {"phone": nxt("create_phone", numbers)})
            if r.status_code != 201 or r.json().get("borrower") is None:
                raise SystemExit(f"create with phone: {r.status_code} {r.text[:300]} (no borrower found)")

        async def create_owner() -> None:
            r = await http.post("/cases", json=create_body | {"borrower": nxt("create_owner", owners)})
            if r.status_code != 201 or r.json().get("borrower") is None:
                raise SystemExit(f"create with borrower: {r.status_code} {r.text[:300]}")

        async def create_plain() -> None:
            r = await http.post("/cases", json=create_body)
            if r.status_code != 201:
                raise SystemExit(f"create: {r.status_code} {r.text[:300]}")

        async def lookup_floor() -> None:
            floor_lookup(nxt("lookup_floor", numbers))

        groups = {
            "reveal": {"read (GET /cases/{ref})": read, "reveal (POST …/reveal, phone)": reveal},
            "lookup": {"create without phone": create_plain, "create with bound phone": create_phone,
                       "create with its borrower's ref (no phone)": create_owner,
                       "lookup by hand (HMAC + SELECT + decrypt)": lookup_floor},
        }
        calls = {name: call for group in groups.values() for name, call in group.items()}
        for call in calls.values():
            for _ in range(warmup):
                await call()
        samples: dict[str, list[float]] = {name: [] for name in calls}
        names = list(calls)
        for index in range(requests):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                t0 = time.perf_counter()
                await calls[name]()
                samples[name].append(time.perf_counter() - t0)
            if (index + 1) % 25 == 0:
                log(f"  api: round {index + 1}/{requests}")
        seq = con.execute("SELECT count(*) FROM audit_records WHERE action = 'reveal'").fetchone()[0]
        out["reveals_recorded"] = seq
        out["reveal_values_answered"] = len(seen_values) > 0
    con.close()
    timings = {name: stats(values) for name, values in samples.items()}
    read_, reveal_ = timings["read (GET /cases/{ref})"], timings["reveal (POST …/reveal, phone)"]
    plain, phone = timings["create without phone"], timings["create with bound phone"]
    out["reveal"] = {"read": read_, "reveal": reveal_,
                     "ratio": round(reveal_["median_ms"] / read_["median_ms"], 2),
                     "ratio_p95": round(reveal_["p95_ms"] / read_["p95_ms"], 2),
                     "added_ms": round(reveal_["median_ms"] - read_["median_ms"], 3)}
    owner = timings["create with its borrower's ref (no phone)"]
    out["lookup"] = {"create_plain": plain, "create_phone": phone, "create_borrower_ref": owner,
                     "by_hand": timings["lookup by hand (HMAC + SELECT + decrypt)"],
                     "ratio_to_borrower_ref": round(phone["median_ms"] / owner["median_ms"], 2),
                     "ratio": round(phone["median_ms"] / plain["median_ms"], 2),
                     "ratio_p95": round(phone["p95_ms"] / plain["p95_ms"], 2),
                     "added_ms": round(phone["median_ms"] - plain["median_ms"], 3)}
    return out


# -- 4. key rotation -------------------------------------------------------------------

SEALED = {"borrowers": ("name_enc", "id_number_enc"), "phone_bindings": ("phone_enc",), "cases": ("phone_enc",),
          "borrower_keys": ("wrapped_key",)}
OWNER = {"borrowers": "id", "phone_bindings": "borrower_id", "cases": "borrower_id", "borrower_keys": "NULL"}


def unwrap(aead: Any, borrower_id: int, wrapped: bytes) -> Any:
    """A borrower's data key by hand: the master key opens the wrapped (base64) key."""
    import base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    where = f"borrower_keys.wrapped_key:{borrower_id}".encode()
    return AESGCM(base64.b64decode(aead.decrypt(wrapped[1:13], wrapped[13:], where)))


def floor_open(aead: Any, blob: bytes, where: bytes, owner: int | None, wrapped: bytes | None,
               cache: dict[int, Any] | None = None) -> bytes:
    """A sealed value by hand: under the master key (version byte 1–255), or under its
    borrower's data key (version byte 0, then the borrower id in 8 bytes)."""
    if blob[0] != 0:
        return aead.decrypt(blob[1:13], blob[13:], where)  # type: ignore[no-any-return]
    assert owner is not None and wrapped is not None
    key = cache.get(owner) if cache is not None else None
    if key is None:
        key = unwrap(aead, owner, wrapped)
        if cache is not None:
            cache[owner] = key
    return key.decrypt(blob[9:21], blob[21:], where)  # type: ignore[no-any-return]


def rotate_product(work: Path) -> dict[str, Any]:
    from linkdesk.server import rotation
    from linkdesk.server.db import make_engine
    from linkdesk.server.runner import embedded_settings, prepare_desk

    settings = embedded_settings(work)
    keyring = prepare_desk(settings)
    engine = make_engine(settings.database_url)
    marks: list[tuple[float, int]] = []
    try:
        t0 = time.perf_counter()
        plan = rotation.begin(engine, keyring, grace=0)  # no running server to wait for
        t1 = time.perf_counter()
        marks.append((t1, 0))
        result = rotation.rotate(engine, keyring, plan.target, previous=plan.previous,
                                 on_progress=lambda done, total: marks.append((time.perf_counter(), done)))
        t2 = time.perf_counter()
    finally:
        engine.dispose()
    if not result.finished or result.failures:
        raise SystemExit(f"rotation: finished={result.finished}, {len(result.failures)} failures, {result.left} left")
    batches = [(b - a, done - before) for (a, before), (b, done) in itertools.pairwise(marks)]
    return {"seconds": t2 - t0, "begin_s": t1 - t0, "rotate_s": t2 - t1, "rows": result.rows,
            "batches": batches, "target": plan.target}


def rotate_floor(work: Path, bits: int) -> dict[str, Any]:
    """The same work by hand: open each value (a borrower's value with their data key,
    unwrapped once per batch), re-encrypt what is under the master key (the wrapped data
    keys) with a new one, HMAC the numbers, UPDATE each row by id; 500 rows a transaction,
    by id within each table."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    master = master_key(work)
    old = AESGCM(derive(master, b"linkdesk field encryption v1"))
    new_master = os.urandom(32)
    new = AESGCM(derive(new_master, b"linkdesk field encryption v1"))
    index_key = derive(new_master, b"linkdesk blind index v1")
    con = open_sqlite(work / "desk.db")
    rows = 0
    batches: list[tuple[float, int, str]] = []
    t0 = time.perf_counter()
    for table, columns in SEALED.items():
        phone = columns == ("phone_enc",)
        sets = ", ".join(f"{c} = ?" for c in columns) + (", phone_index = ?" if phone else "") + ", key_version = 2"
        update = f"UPDATE {table} SET {sets} WHERE id = ?"
        owner = OWNER[table]
        owned = owner if owner == "NULL" else f"t.{owner}"
        select = (f"SELECT t.id, {owned}, k.wrapped_key, {', '.join('t.' + c for c in columns)} FROM {table} t "
                  f"LEFT JOIN borrower_keys k ON k.id = {owned} "
                  "WHERE t.key_version = 1 AND t.id > ? ORDER BY t.id LIMIT 500")
        last = 0
        while True:
            b0 = time.perf_counter()
            con.execute("BEGIN IMMEDIATE")
            batch = con.execute(select, (last,)).fetchall()
            if not batch:
                con.execute("COMMIT")
                break
            keys: dict[int, Any] = {}
            for row_id, borrower_id, wrapped, *blobs in batch:
                values: list[Any] = []
                index = None
                for column, blob in zip(columns, blobs, strict=True):
                    if blob is None:
                        values.append(None)
                        continue
                    where = f"{table}.{column}:{row_id}".encode()
                    plain = floor_open(old, blob, where, borrower_id, wrapped, keys)
                    if blob[0] == 0:
                        values.append(blob)  # under the data key: its wrapped key is re-wrapped instead
                    else:
                        nonce = os.urandom(12)
                        values.append(b"\x02" + nonce + new.encrypt(nonce, plain, where))
                    if phone:
                        digest = hmac.new(index_key, plain, hashlib.sha256).digest()
                        index = format(int.from_bytes(digest[:8], "big") >> (64 - bits), f"0{(bits + 3) // 4}x")
                if phone:
                    values.append(index)
                con.execute(update, (*values, row_id))
            con.execute("COMMIT")
            last = batch[-1][0]
            rows += len(batch)
            batches.append((time.perf_counter() - b0, len(batch), table))
    seconds = time.perf_counter() - t0
    left = sum(con.execute(f"SELECT count(*) FROM {t} WHERE key_version = 1").fetchone()[0] for t in SEALED)
    con.close()
    if left:
        raise SystemExit(f"rotation floor: {left} rows left")
    return {"seconds": seconds, "rows": rows, "batches": batches}


def crypto_ops(db: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        values = sum(con.execute(
            f"SELECT count({c}) FROM {t}").fetchone()[0] for t, cols in SEALED.items() for c in cols)
        numbers = sum(con.execute(
            f"SELECT count(phone_enc) FROM {t}").fetchone()[0] for t in ("phone_bindings", "cases"))
        rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in SEALED}
    finally:
        con.close()
    return {"rows": sum(rows.values()), "rows_by_table": rows, "values_reencrypted": values, "hmacs": numbers}


def bench_rotation(base: Path, rounds: int) -> dict[str, Any]:
    ops = crypto_ops(base / "desk.db")
    con = sqlite3.connect(f"file:{base / 'desk.db'}?mode=ro", uri=True)
    bits = con.execute("SELECT index_bits FROM desk_keys WHERE version = 1").fetchone()[0]
    con.close()
    by_table = ops["rows_by_table"]
    edges = [("borrowers", by_table["borrowers"]),
             ("phone_bindings", by_table["borrowers"] + by_table["phone_bindings"]),
             ("cases", ops["rows"] - by_table["borrower_keys"]),
             ("borrower_keys", ops["rows"])]
    runs: dict[str, list[dict[str, Any]]] = {"product": [], "floor": []}
    for index in range(rounds):
        order = ["product", "floor"] if index % 2 == 0 else ["floor", "product"]
        for name in order:
            work = copy_desk(base, OUT / "privacy-rotate")
            run = rotate_product(work) if name == "product" else rotate_floor(work, bits)
            if run["rows"] != ops["rows"]:
                raise SystemExit(f"rotation {name}: {run['rows']} rows, expected {ops['rows']}")
            runs[name].append(run)
            log(f"  rotation: round {index + 1}/{rounds}: {name} {run['rows']:,} rows in {run['seconds']:.1f} s "
                f"({run['rows'] / run['seconds']:,.0f} rows/s)")
    shutil.rmtree(OUT / "privacy-rotate", ignore_errors=True)

    def table_of(done: int) -> str:
        return next(name for name, edge in edges if done <= edge)

    result: dict[str, Any] = {"rounds": rounds, "index_bits": bits, **ops}
    for name, series in runs.items():
        seconds = [run["seconds"] for run in series]
        batch_times: list[float] = []
        per_table: dict[str, list[float]] = {t: [0.0, 0.0] for t in SEALED}  # seconds, rows
        for run in series:
            if name == "product":
                done = 0
                for elapsed, moved in run["batches"]:
                    done += moved
                    table = table_of(done)
                    batch_times.append(elapsed * 500 / moved)  # per 500 rows
                    per_table[table][0] += elapsed
                    per_table[table][1] += moved
            else:
                for elapsed, moved, table in run["batches"]:
                    batch_times.append(elapsed * 500 / moved)
                    per_table[table][0] += elapsed
                    per_table[table][1] += moved
        median = statistics.median(seconds)
        result[name] = {
            "median_s": round(median, 2), "all_s": [round(s, 2) for s in seconds],
            "rows_per_s": round(ops["rows"] / median),
            "batch_500": stats(batch_times),
            "rows_per_s_by_table": {t: round(n / s) for t, (s, n) in per_table.items() if s},
        }
        if name == "product":
            result[name]["begin_s"] = [round(run["begin_s"], 3) for run in series]
    result["ratio"] = round(result["product"]["median_s"] / result["floor"]["median_s"], 2)
    result["ratio_by_table"] = {
        t: round(result["floor"]["rows_per_s_by_table"][t] / result["product"]["rows_per_s_by_table"][t], 2)
        for t in SEALED}
    return result


# -- the run ---------------------------------------------------------------------------


def print_table(result: dict[str, Any]) -> None:
    p = result["parts"]
    lines = ["", f"{'figure':44} {'product':>16} {'floor':>16} {'ratio':>6}"]

    def row(name: str, product: str, floor: str, ratio: float) -> None:
        lines.append(f"{name:44} {product:>16} {floor:>16} {ratio:6.2f}")

    if "append" in p:
        a = p["append"]
        row("audit append + commit, records/s", f"{a['product']['records_per_s']:,}", f"{a['floor']['records_per_s']:,}",
            a["ratio_mean"])
        row("  median (p95) ms", f"{a['product']['median_ms']:.3f} ({a['product']['p95_ms']:.3f})",
            f"{a['floor']['median_ms']:.3f} ({a['floor']['p95_ms']:.3f})", a["ratio"])
        row("  chain protocol by hand, median (p95) ms", f"{a['by_hand']['median_ms']:.3f} ({a['by_hand']['p95_ms']:.3f})",
            f"{a['floor']['median_ms']:.3f}", a["ratio_by_hand"])
    if "verify" in p:
        v = p["verify"]
        row(f"chain verify ({v['records']:,} records), records/s", f"{v['product']['records_per_s']:,}",
            f"{v['floor']['records_per_s']:,}", v["ratio"])
        row("  median s", f"{v['product']['median_s']:.2f}", f"{v['floor']['median_s']:.2f}", v["ratio"])
    if "api" in p:
        r, k = p["api"]["reveal"], p["api"]["lookup"]
        row("reveal vs GET case, median (p95) ms", f"{r['reveal']['median_ms']:.2f} ({r['reveal']['p95_ms']:.2f})",
            f"{r['read']['median_ms']:.2f} ({r['read']['p95_ms']:.2f})", r["ratio"])
        row(f"create with phone vs without ({p['api']['index_bits']}-bit)",
            f"{k['create_phone']['median_ms']:.2f} ({k['create_phone']['p95_ms']:.2f})",
            f"{k['create_plain']['median_ms']:.2f} ({k['create_plain']['p95_ms']:.2f})", k["ratio"])
        row("  create with phone vs with borrower ref",
            f"{k['create_phone']['median_ms']:.2f} ({k['create_phone']['p95_ms']:.2f})",
            f"{k['create_borrower_ref']['median_ms']:.2f} ({k['create_borrower_ref']['p95_ms']:.2f})",
            k["ratio_to_borrower_ref"])
        lines.append(f"  lookup by hand (HMAC + SELECT + decrypt): {k['by_hand']['median_ms']:.3f} ms "
                     f"(p95 {k['by_hand']['p95_ms']:.3f}); rows per lookup {p['api']['lookup_rows_matched']}")
    if "rotation" in p:
        t = p["rotation"]
        row(f"key rotation ({t['rows']:,} rows), rows/s", f"{t['product']['rows_per_s']:,}",
            f"{t['floor']['rows_per_s']:,}", t["ratio"])
        row("  per 500 rows, median (p95) ms",
            f"{t['product']['batch_500']['median_ms']:.0f} ({t['product']['batch_500']['p95_ms']:.0f})",
            f"{t['floor']['batch_500']['median_ms']:.0f} ({t['floor']['batch_500']['p95_ms']:.0f})",
            t["product"]["batch_500"]["median_ms"] / t["floor"]["batch_500"]["median_ms"])
        for table, ratio in t["ratio_by_table"].items():
            row(f"  {table}, rows/s", f"{t['product']['rows_per_s_by_table'][table]:,}",
                f"{t['floor']['rows_per_s_by_table'][table]:,}", ratio)
    log("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--borrowers", type=int, default=32_000,
                        help="borrowers in the desk (about 1.6 bindings each; 32,000 gives > 50,000 bindings)")
    parser.add_argument("--cases", type=int, default=50_000, help="cases in the desk")
    parser.add_argument("--records", type=int, default=100_000, help="records in the chain to verify")
    parser.add_argument("--appends", type=int, default=2000, help="timed appends per series")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per API figure")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up calls per figure")
    parser.add_argument("--verify-rounds", type=int, default=3)
    parser.add_argument("--rotation-rounds", type=int, default=2)
    parser.add_argument("--only", choices=["append", "verify", "api", "rotation"], action="append",
                        help="run only these parts (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.requests + args.warmup > 900:
        parser.error("--requests + --warmup must stay under the reveal limit (1,000 an hour)")
    parts = args.only or ["append", "verify", "api", "rotation"]
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "cpus": os.cpu_count(), "platform": platform.platform()},
        "method": {"warmup": args.warmup, "requests": args.requests, "appends": args.appends,
                   "verify_rounds": args.verify_rounds, "rotation_rounds": args.rotation_rounds,
                   "interleaved": True, "ratio": "product time / floor time (median)"},
        "parts": {},
    }
    if "api" in parts or "rotation" in parts:
        base, generation = ensure_desk(args.borrowers, args.cases)
        result["desk"] = {"path": str(base), **generation, **(desk_counts(base / "desk.db") or {}),
                          "db_bytes": (base / "desk.db").stat().st_size}
    if "append" in parts:
        log(f"audit append: {args.appends:,} timed appends per series")
        result["parts"]["append"] = bench_append(args.appends, args.warmup * 5, block=100)
    if "verify" in parts:
        db, built = ensure_chain(args.records)
        log(f"chain verification: {args.verify_rounds} rounds")
        result["parts"]["verify"] = bench_verify(db, args.records, args.verify_rounds) | {"chain": built}
    if "api" in parts:
        log(f"API: {args.requests} timed requests per figure")
        result["parts"]["api"] = asyncio.run(
            bench_api(base, OUT / "privacy-api", args.requests, args.warmup, spread=1000))
        shutil.rmtree(OUT / "privacy-api", ignore_errors=True)
    if "rotation" in parts:
        log(f"key rotation: {args.rotation_rounds} rounds")
        result["parts"]["rotation"] = bench_rotation(base, args.rotation_rounds)
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["seconds"] = round(time.perf_counter() - started, 1)
    print_table(result)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
