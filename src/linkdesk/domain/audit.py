"""The audit chain: records, their canonical encoding and hashes, and how to check them.

Each record's ``hash`` is SHA-256 over ``prev_hash`` and a canonical JSON encoding of
the record's fields, so that changing, removing or reordering any record breaks every
hash after it. Pure functions only: the server appends and walks, this module decides.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first record."""


class AuditAction(enum.StrEnum):
    REVEAL = "reveal"
    REVEAL_FAILED = "reveal_failed"
    """A reveal that found the stored value undecryptable (tampered or wrong key)."""
    EXPORT = "export"
    REBIND = "rebind"
    UNBIND = "unbind"
    DELETION = "deletion"
    LOGIN = "login"
    AGENT_ADDED = "agent_added"
    TOKEN_ISSUED = "token_issued"
    ROLE_CHANGE = "role_change"
    AGENT_DISABLED = "agent_disabled"
    AGENT_ENABLED = "agent_enabled"
    SETTINGS_CHANGE = "settings_change"
    KEY_ROTATION = "key_rotation"
    CHECKPOINT = "checkpoint"
    DNC_ADDED = "dnc_added"
    """A number put on the do-not-contact list (by an agent, or by a check that found it
    reassigned)."""
    DNC_REMOVED = "dnc_removed"
    REBIND_APPROVED = "rebind_approved"
    """A supervisor's approval of someone else's rebind (four eyes)."""
    CORRECTION = "correction"
    LEGAL_HOLD_PLACED = "legal_hold_placed"
    LEGAL_HOLD_LIFTED = "legal_hold_lifted"
    MASKED_CALL = "masked_call"
    """A privacy number bound to connect an agent with a borrower."""


class AuditRecord(BaseModel):
    """One link of the chain, as stored and as the API returns it."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(ge=1)
    at: datetime
    actor: str
    """The agent's name, or ``cli:<os user>`` for an administrator's command."""
    action: AuditAction
    target: str
    """What was acted on: ``B-000042.name``, ``agent:wang.fang``, ``desk.settings``…"""
    case: str | None = None
    """The case the action was taken under (``LD-000123``), if any."""
    reason: str | None = None
    """The reason code given (a reveal's ``borrower_on_line``…)."""
    detail: dict[str, Any] = Field(default_factory=dict)
    """More about the action: a reveal's free text, a role change's from/to. Never a
    revealed value."""
    prev_hash: str
    hash: str


def _instant(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    case: str | None,
    reason: str | None,
    detail: dict[str, Any],
) -> bytes:
    """The bytes a record's hash covers: sorted-key JSON, UTF-8, no spaces, time in UTC
    to the microsecond."""
    fields = {
        "seq": seq,
        "at": _instant(at),
        "actor": actor,
        "action": str(action),
        "target": target,
        "case": case,
        "reason": reason,
        "detail": detail,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(prev_hash: str, encoded: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + encoded).hexdigest()


def hash_of(record: AuditRecord) -> str:
    """What ``record.hash`` must be, given its fields and ``prev_hash``."""
    return chain_hash(record.prev_hash, encode(record))


def encode(record: AuditRecord) -> bytes:
    return canonical(
        seq=record.seq, at=record.at, actor=record.actor, action=record.action,
        target=record.target, case=record.case, reason=record.reason, detail=record.detail,
    )


class Break(BaseModel):
    """Where a chain stops being trustworthy, and why."""

    model_config = ConfigDict(frozen=True)

    seq: int
    problem: str


def first_break(records: Iterable[AuditRecord], *, prev_hash: str = GENESIS_HASH, start: int = 1) -> Break | None:
    """Walk ``records`` in order (from ``start``, after ``prev_hash``) and name the first
    record that does not belong: a gap or repeat in the sequence, a ``prev_hash`` that is
    not the hash before it, or a hash that does not match its contents."""
    expected_seq = start
    for record in records:
        if record.seq != expected_seq:
            what = "missing" if record.seq > expected_seq else "repeated or out of order"
            return Break(seq=expected_seq, problem=f"record {expected_seq} is {what} (found {record.seq})")
        if record.prev_hash != prev_hash:
            return Break(seq=record.seq, problem="its prev_hash is not the hash of the record before it")
        if hash_of(record) != record.hash:
            return Break(seq=record.seq, problem="its hash does not match its contents")
        prev_hash = record.hash
        expected_seq += 1
    return None


class Checkpoint(BaseModel):
    """A signed statement that the chain had ``seq`` records ending in ``hash``."""

    model_config = ConfigDict(frozen=True)

    desk: str
    """An identifier of the desk the checkpoint was taken of."""
    seq: int
    hash: str
    at: datetime
    public_key: str
    """Base64 of the Ed25519 public key that signed it."""
    signature: str
    """Base64 Ed25519 signature over :func:`checkpoint_message`."""


def checkpoint_message(desk: str, seq: int, head_hash: str, at: datetime) -> bytes:
    return json.dumps(
        {"desk": desk, "seq": seq, "hash": head_hash, "at": _instant(at)},
        sort_keys=True, separators=(",", ":"),
    ).encode("utf-8")


class ChainState(BaseModel):
    """The result of verifying a chain, for the Audit screen and ``linkdesk audit verify``."""

    records: int
    """How many records the chain holds."""
    head_hash: str
    intact: bool
    broken: Break | None = None
    checkpoints_checked: int = 0
    checkpoint_problems: list[str] = Field(default_factory=list)
    verified_at: datetime
