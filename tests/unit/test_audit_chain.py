"""The audit chain's rules (domain/audit.py): any change to a stored chain is named at
the record where it happened; checkpoint signatures cover every signed field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from linkdesk.domain.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditRecord,
    canonical,
    chain_hash,
    first_break,
    hash_of,
)
from linkdesk.server.chain import sign, signature_holds

short_text = st.text(max_size=12)
json_values = st.one_of(st.none(), st.booleans(), st.integers(-(10**9), 10**9), short_text)
details = st.dictionaries(st.text(max_size=6), json_values, max_size=3)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
hashes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
entries = st.fixed_dictionaries(
    {
        "at": instants,
        "actor": short_text,
        "action": st.sampled_from(AuditAction),
        "target": short_text,
        "case": st.none() | short_text,
        "reason": st.none() | short_text,
        "detail": details,
    }
)
chains = st.lists(entries, min_size=1, max_size=8).map(lambda items: build(items))


def build(items: list[dict[str, Any]], *, prev_hash: str = GENESIS_HASH, start: int = 1) -> list[AuditRecord]:
    """A well-formed chain of ``items``, hashed the way ``server.audit.append`` does."""
    records = []
    for seq, item in enumerate(items, start):
        digest = chain_hash(prev_hash, canonical(seq=seq, **item))
        records.append(AuditRecord(seq=seq, prev_hash=prev_hash, hash=digest, **item))
        prev_hash = digest
    return records


def other(draw: st.DrawFn, strategy: st.SearchStrategy[Any], old: Any) -> Any:
    return draw(strategy.filter(lambda value: value != old))


FIELD_CHANGES = {
    "seq": lambda draw, old: other(draw, st.integers(1, 10**6), old),
    "at": lambda draw, old: old + timedelta(microseconds=draw(st.integers(1, 10**12)) * draw(st.sampled_from([1, -1]))),
    "actor": lambda draw, old: other(draw, short_text, old),
    "action": lambda draw, old: other(draw, st.sampled_from(AuditAction), old),
    "target": lambda draw, old: other(draw, short_text, old),
    "case": lambda draw, old: other(draw, st.none() | short_text, old),
    "reason": lambda draw, old: other(draw, st.none() | short_text, old),
    "detail": lambda draw, old: other(draw, details, old),
    "prev_hash": lambda draw, old: other(draw, hashes, old),
    "hash": lambda draw, old: other(draw, hashes, old),
}


@given(chains)
def test_an_untouched_chain_is_intact(records: list[AuditRecord]) -> None:
    assert first_break(records) is None
    assert all(hash_of(record) == record.hash for record in records)


@given(chains, st.data())
def test_a_walk_can_start_in_the_middle(records: list[AuditRecord], data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(records)))
    prev = records[k - 1].hash if k else GENESIS_HASH
    assert first_break(records[k:], prev_hash=prev, start=k + 1) is None


@given(chains, st.sampled_from(sorted(FIELD_CHANGES)), st.data())
def test_changing_any_field_of_any_record_is_named_at_that_record(
    records: list[AuditRecord], field: str, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(records) - 1))
    old = getattr(records[index], field)
    new = FIELD_CHANGES[field](data.draw, old)
    tampered = records.copy()
    tampered[index] = records[index].model_copy(update={field: new})

    broken = first_break(tampered)

    assert broken is not None
    assert broken.seq == index + 1


@given(chains, st.data())
def test_a_removed_record_is_named(records: list[AuditRecord], data: st.DataObject) -> None:
    if len(records) < 2:
        return
    index = data.draw(st.integers(0, len(records) - 2))
    broken = first_break(records[:index] + records[index + 1 :])
    assert broken is not None
    assert broken.seq == index + 1
    assert "missing" in broken.problem


@given(chains)
def test_removing_the_last_records_is_invisible_to_the_walk_alone(records: list[AuditRecord]) -> None:
    """Why the head row and signed checkpoints exist: a shorter chain is a valid chain."""
    assert first_break(records[:-1]) is None


@given(chains, entries, st.data())
def test_an_inserted_record_is_named_even_when_it_is_a_well_formed_link(
    records: list[AuditRecord], item: dict[str, Any], data: st.DataObject
) -> None:
    """A forger who hashes the new record properly still displaces the one after it."""
    position = data.draw(st.integers(1, len(records)))  # seq the forged record takes
    prev = records[position - 2].hash if position > 1 else GENESIS_HASH
    forged = build([item], prev_hash=prev, start=position)[0]
    broken = first_break(records[: position - 1] + [forged] + records[position - 1 :])
    assert broken is not None
    assert broken.seq == position + 1


@given(chains, st.data())
def test_a_replayed_record_is_named(records: list[AuditRecord], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(records) - 1))
    broken = first_break(records[: index + 1] + [records[index]] + records[index + 1 :])
    assert broken is not None
    assert broken.seq == index + 2
    assert "repeated" in broken.problem


@given(chains, st.data())
def test_swapped_records_are_named_at_the_first_of_them(records: list[AuditRecord], data: st.DataObject) -> None:
    if len(records) < 2:
        return
    i, j = sorted(data.draw(st.lists(st.integers(0, len(records) - 1), min_size=2, max_size=2, unique=True)))
    swapped = records.copy()
    swapped[i], swapped[j] = swapped[j], swapped[i]
    broken = first_break(swapped)
    assert broken is not None
    assert broken.seq == i + 1


@given(entries, st.integers(-12, 14))
def test_the_hash_is_of_the_instant_not_its_zone(item: dict[str, Any], hours: int) -> None:
    shifted = item | {"at": item["at"].astimezone(timezone(timedelta(hours=hours)))}
    naive = item | {"at": item["at"].replace(tzinfo=None)}
    encoded = canonical(seq=1, **item)
    assert canonical(seq=1, **shifted) == encoded
    assert canonical(seq=1, **naive) == encoded  # a naive time is UTC, as the database stores it


@given(entries, details)
def test_the_encoding_does_not_depend_on_key_order(item: dict[str, Any], detail: dict[str, Any]) -> None:
    reordered = dict(reversed(list(detail.items())))
    assert canonical(seq=1, **(item | {"detail": detail})) == canonical(seq=1, **(item | {"detail": reordered}))


@given(entries, hashes, hashes)
def test_the_hash_covers_the_previous_hash(item: dict[str, Any], one: str, two: str) -> None:
    encoded = canonical(seq=1, **item)
    assert (chain_hash(one, encoded) == chain_hash(two, encoded)) == (one == two)


KEY = Ed25519PrivateKey.generate()


@given(
    st.sampled_from(["desk", "seq", "hash", "at"]),
    st.integers(0, 10**6),
    hashes,
    instants,
    st.data(),
)
def test_a_checkpoint_signature_covers_every_signed_field(
    field: str, seq: int, head_hash: str, at: datetime, data: st.DataObject
) -> None:
    checkpoint = sign(KEY, desk="desk-1", seq=seq, head_hash=head_hash, at=at)
    assert signature_holds(checkpoint)
    changes = {
        "desk": lambda: other(data.draw, short_text, checkpoint.desk),
        "seq": lambda: other(data.draw, st.integers(0, 10**6), checkpoint.seq),
        "hash": lambda: other(data.draw, hashes, checkpoint.hash),
        "at": lambda: checkpoint.at + timedelta(microseconds=data.draw(st.integers(1, 10**9))),
    }
    assert not signature_holds(checkpoint.model_copy(update={field: changes[field]()}))


def test_a_checkpoint_re_signed_by_another_key_still_verifies_as_its_own() -> None:
    """The signature alone proves nothing about *whose* it is: the verifier pins the key."""
    mine = sign(KEY, desk="d", seq=3, head_hash="a" * 64, at=datetime(2026, 1, 1, tzinfo=UTC))
    theirs = sign(Ed25519PrivateKey.generate(), desk="d", seq=3, head_hash="b" * 64, at=mine.at)
    assert signature_holds(theirs) and theirs.public_key != mine.public_key
    swapped = theirs.model_copy(update={"public_key": mine.public_key})
    assert not signature_holds(swapped)
