"""Verifying the audit chain, and signed checkpoints of its head.

The hash chain shows that no record was changed, removed or reordered — unless
everything after it was rewritten with recomputed hashes, which whoever can write the
table with its triggers off (a database superuser) can do. A *checkpoint* is the head
``(seq, hash)`` signed with an Ed25519 key kept outside the database and written to a
file outside it: rewriting any record up to that ``seq``, or cutting the chain short
below it, no longer matches the checkpoint, and forging a new one needs the key.

The desk pins the key on its first checkpoint (``desk_settings`` row
``audit_checkpoint_key``, with the desk's random id in ``desk_id``); a verifier that
holds the expected public key itself (``linkdesk audit verify`` uses the signing key
file when it can read it) also notices that pin being swapped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkdesk.domain.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditRecord,
    Break,
    ChainState,
    Checkpoint,
    checkpoint_message,
    first_break,
)
from linkdesk.server import audit
from linkdesk.server.tables import AuditRow, DeskSettingRow

CHECKPOINT_TARGET = "audit.chain"
DESK_ID_SETTING = "desk_id"
CHECKPOINT_KEY_SETTING = "audit_checkpoint_key"
MAX_CHECKPOINT_FILE = 64 * 1024


class ChainError(Exception):
    """A checkpoint cannot be taken."""


class ChainNotIntact(ChainError):
    """The chain (or its checkpoints) did not verify: signing its head would vouch for it."""

    def __init__(self, state: ChainState) -> None:
        super().__init__("the audit chain does not verify")
        self.state = state


class SigningKeyError(ChainError):
    """The signing key file is unreadable, malformed or open to other users."""


# -- the signing key -------------------------------------------------------------------


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """Read an Ed25519 private key: PEM (PKCS #8, unencrypted) or base64 of the 32-byte
    seed. Like ssh, refuse a file that other users may read."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise SigningKeyError(f"{path}: no such signing key") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SigningKeyError(f"{path}: cannot read the signing key ({exc})") from None
    if mode & 0o077:
        raise SigningKeyError(f"{path}: the signing key is open to other users (chmod 600 it)")
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: not an Ed25519 private key (PEM or base64 of 32 bytes)")
    return key


def signing_key(path: Path, *, create: bool = True) -> Ed25519PrivateKey:
    """The key in ``path``, created (PEM, mode 0600, folder 0700) if absent and ``create``."""
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return load_signing_key(path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.chmod(path, 0o600)
    return load_signing_key(path)


def public_key_of(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def fingerprint(public_key: str) -> str:
    """A short, stable name for a public key, for messages."""
    return "ed25519:" + hashlib.sha256(public_key.encode("ascii", "replace")).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, *, desk: str, seq: int, head_hash: str, at: datetime) -> Checkpoint:
    signature = key.sign(checkpoint_message(desk, seq, head_hash, at))
    return Checkpoint(
        desk=desk, seq=seq, hash=head_hash, at=at, public_key=public_key_of(key),
        signature=base64.b64encode(signature).decode("ascii"),
    )


def signature_holds(checkpoint: Checkpoint) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint.public_key, validate=True))
        public.verify(
            base64.b64decode(checkpoint.signature, validate=True),
            checkpoint_message(checkpoint.desk, checkpoint.seq, checkpoint.hash, checkpoint.at),
        )
    except (ValueError, binascii.Error, InvalidSignature):
        return False
    return True


# -- checkpoint files ------------------------------------------------------------------


def checkpoint_file_name(checkpoint: Checkpoint) -> str:
    """``20261129T101500Z-seq0000001234.json``: by name is by time, then by seq."""
    return f"{checkpoint.at.astimezone(UTC):%Y%m%dT%H%M%SZ}-seq{checkpoint.seq:010d}.json"


def write_checkpoint(directory: Path, checkpoint: Checkpoint) -> Path:
    """Write one checkpoint file, whole or not at all, never over another."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / checkpoint_file_name(checkpoint)
    temporary = directory / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    with open(temporary, "x", encoding="utf-8") as handle:
        handle.write(checkpoint.model_dump_json(indent=2) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise ChainError(f"{path} exists already") from None
    finally:
        temporary.unlink()
    return path


def read_checkpoints(directory: Path) -> list[tuple[str, Checkpoint | str]]:
    """Every ``*.json`` in ``directory`` (none if it does not exist), by name: the
    checkpoint, or why the file is not one."""
    if not directory.is_dir():
        return []
    found: list[tuple[str, Checkpoint | str]] = []
    for path in sorted(directory.glob("*.json")):
        try:
            if path.stat().st_size > MAX_CHECKPOINT_FILE:
                found.append((path.name, "not a checkpoint file (too large)"))
                continue
            found.append((path.name, Checkpoint.model_validate_json(path.read_bytes())))
        except OSError as exc:
            found.append((path.name, f"cannot be read ({exc.strerror or exc})"))
        except ValidationError:
            found.append((path.name, "not a checkpoint file (malformed JSON or fields)"))
    return found


# -- the desk's identity and pinned key ------------------------------------------------


def _setting(session: Session, name: str) -> str | None:
    value = session.scalar(select(DeskSettingRow.value).where(DeskSettingRow.name == name))
    return value if isinstance(value, str) else None


def desk_id(session: Session, *, create: bool = False) -> str | None:
    """The desk's random id, which checkpoints name; made on first use when ``create``
    (inside the caller's transaction)."""
    value = _setting(session, DESK_ID_SETTING)
    if value is None and create:
        value = uuid.uuid4().hex
        session.add(DeskSettingRow(name=DESK_ID_SETTING, value=value))
        session.flush()
    return value


def recorded_key(session: Session) -> str | None:
    """The public key (base64) the desk's checkpoints are signed with, pinned on the first."""
    return _setting(session, CHECKPOINT_KEY_SETTING)


# -- verifying -------------------------------------------------------------------------


class _Tally:
    """Counts the records a walk went through, and remembers the last hash."""

    def __init__(self) -> None:
        self.records = 0
        self.head_hash = GENESIS_HASH

    def through(self, records: Iterable[AuditRecord]) -> Iterator[AuditRecord]:
        for record in records:
            self.records += 1
            self.head_hash = record.hash
            yield record


def verify(
    session: Session,
    *,
    checkpoints: Iterable[Checkpoint] = (),
    checkpoint_dir: Path | None = None,
    public_key: str | None = None,
    at: datetime | None = None,
    batch: int = 5000,
) -> ChainState:
    """Walk the whole chain and check ``checkpoints`` and every file in ``checkpoint_dir``.

    ``public_key`` is the key the checkpoints must be signed with (base64); without it,
    the key the desk recorded on its first checkpoint. ``intact`` is true only if the
    walk found no break *and* every checkpoint agrees.
    """
    head = audit.head_row(session)  # read first: every record up to it is committed
    tally = _Tally()
    broken = first_break(tally.through(audit.walk(session, batch=batch)))
    if broken is None and head is not None and head[0] > tally.records:
        broken = Break(
            seq=tally.records + 1,
            problem=f"record {tally.records + 1} is missing: the chain's head says it holds "
            f"{head[0]} records (records were removed from its end)",
        )
    if broken is None:
        records, head_hash = tally.records, tally.head_hash
    else:
        records = session.scalar(select(func.count()).select_from(AuditRow)) or 0
        head_hash = audit.head(session)[1]

    problems: list[str] = []
    if head is None:
        problems.append("the chain's head row is missing: nothing can be appended")
    loaded: list[tuple[str, Checkpoint | str]] = [
        (f"checkpoint at record {checkpoint.seq}", checkpoint) for checkpoint in checkpoints
    ]
    if checkpoint_dir is not None:
        loaded += read_checkpoints(checkpoint_dir)
    recorded = recorded_key(session)
    if public_key and recorded and public_key != recorded:
        problems.append(
            f"the desk's checkpoint key on record is {fingerprint(recorded)}, not the expected "
            f"{fingerprint(public_key)}: it was changed, or the wrong key was given"
        )
    pinned = public_key or recorded
    if loaded:
        desk = desk_id(session)
        if pinned is None:
            problems.append("the desk has no checkpoint key on record: give the expected public key")
        for label, item in loaded:
            problem = item if isinstance(item, str) else _checkpoint_problem(session, item, desk, pinned)
            if problem:
                problems.append(f"{label}: {problem}")
    return ChainState(
        records=records,
        head_hash=head_hash,
        intact=broken is None and not problems,
        broken=broken,
        checkpoints_checked=len(loaded),
        checkpoint_problems=problems,
        verified_at=at or datetime.now(UTC),
    )


def _checkpoint_problem(session: Session, checkpoint: Checkpoint, desk: str | None, pinned: str | None) -> str | None:
    if not signature_holds(checkpoint):
        return "its signature does not verify: the checkpoint was altered or forged"
    if pinned is not None and checkpoint.public_key != pinned:
        return (
            f"signed by another key ({fingerprint(checkpoint.public_key)}, not the desk's "
            f"{fingerprint(pinned)})"
        )
    if checkpoint.desk != desk:
        return f"taken of another desk ({checkpoint.desk[:32]}, this desk is {desk or 'without an id'})"
    if checkpoint.seq == 0:
        stored: str | None = GENESIS_HASH
    else:
        stored = session.scalar(select(AuditRow.hash).where(AuditRow.seq == checkpoint.seq))
    if stored is None:
        return f"the chain holds no record {checkpoint.seq}: it was cut short below the checkpoint"
    if stored != checkpoint.hash:
        return (
            f"record {checkpoint.seq} has hash {stored[:12]}…, the checkpoint signed "
            f"{checkpoint.hash[:12]}…: the chain was rewritten up to record {checkpoint.seq}"
        )
    return None


# -- taking a checkpoint ---------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointTaken:
    checkpoint: Checkpoint
    path: Path
    record: AuditRecord
    """The ``checkpoint`` record appended right after the head it signs."""


def take_checkpoint(
    session: Session,
    *,
    key: Ed25519PrivateKey,
    directory: Path,
    actor: str,
    at: datetime | None = None,
) -> CheckpointTaken:
    """Verify the chain (with the checkpoints already in ``directory``), sign its head,
    write the checkpoint file and append a ``checkpoint`` record, which the checkpoint
    therefore does not cover. Commits on ``session``; raises :class:`ChainNotIntact`
    rather than vouch for a chain that does not verify, and :class:`ChainError` if the
    desk's checkpoints are pinned to another key."""
    at = at or datetime.now(UTC)
    public = public_key_of(key)
    pinned = recorded_key(session)
    if pinned is not None and pinned != public:
        session.rollback()
        raise ChainError(
            f"this desk's checkpoints are signed with {fingerprint(pinned)}; the signing key "
            f"is {fingerprint(public)}"
        )
    state = verify(session, checkpoint_dir=directory, public_key=public, at=at)
    session.rollback()  # end the read before taking the write lock (SQLite cannot upgrade)
    if not state.intact:
        raise ChainNotIntact(state)
    try:
        seq, head_hash = audit.lock_head(session)
        # Records appended between the walk and the lock must chain on too.
        tail = _Tally()
        tail.records, tail.head_hash = state.records, state.head_hash
        broken = first_break(
            tail.through(audit.walk(session, start=state.records + 1)),
            prev_hash=state.head_hash, start=state.records + 1,
        )
        if broken is not None or (tail.records, tail.head_hash) != (seq, head_hash):
            raise ChainNotIntact(state.model_copy(update={
                "intact": False,
                "broken": broken or Break(seq=seq, problem="the chain's head row does not match its last record"),
            }))
        desk = desk_id(session, create=True)
        assert desk is not None
        if recorded_key(session) is None:
            session.add(DeskSettingRow(name=CHECKPOINT_KEY_SETTING, value=public))
        checkpoint = sign(key, desk=desk, seq=seq, head_hash=head_hash, at=at)
        record = audit.append(
            session, at=at, actor=actor, action=AuditAction.CHECKPOINT, target=CHECKPOINT_TARGET,
            detail={"seq": seq, "hash": head_hash},
        )
        # Written before the commit: if the commit fails, the file still states a truth.
        path = write_checkpoint(directory, checkpoint)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return CheckpointTaken(checkpoint=checkpoint, path=path, record=record)
