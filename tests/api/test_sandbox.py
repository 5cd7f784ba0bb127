"""The sandbox provider: the carriers' rules over the number-lifecycle registry, read
from the desk's database (sealed, found by blind index) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from linkdesk.domain.intel import Identity, IdentityMatch, LineStatus, Reassigned, Tenure
from linkdesk.intel.sandbox import Lifecycle, SandboxProvider, change, evaluate, lookup, register
from linkdesk.server.db import make_session_factory
from linkdesk.server.rotation import begin, rotate

from .conftest import Desk

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
NUMBER, OTHER = "+8613800138000", "+8613900139000"
OWNER = Identity(name="王小明", id_number="11010119900101123X")


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def check(entry: Lifecycle | None, reference: date, identity: Identity | None = None):  # type: ignore[no-untyped-def]
    return evaluate(entry, reference_date=reference, checked_at=NOW, identity=identity)


REISSUED = Lifecycle(activated_at=days_ago(2000), cancelled_at=days_ago(200), reissued_at=days_ago(100))


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (days_ago(500).date(), Reassigned.YES),  # bound long before the re-issue
        (days_ago(101).date(), Reassigned.YES),  # the day before
        (days_ago(100).date(), Reassigned.NO),  # bound the day it was re-issued: the new holder
        (days_ago(30).date(), Reassigned.NO),
    ],
)
def test_reassigned_is_yes_only_when_the_reference_date_is_before_the_last_reissue(
    reference: date, expected: Reassigned
) -> None:
    report = check(REISSUED, reference)
    assert report.reassigned == expected
    assert report.provider == "sandbox" and report.reference_date == reference


def test_a_number_activated_after_the_reference_date_was_issued_to_someone_since() -> None:
    assert check(Lifecycle(activated_at=days_ago(10)), days_ago(40).date()).reassigned == Reassigned.YES


def test_cancelled_and_not_reissued_is_cancelled_empty_and_without_tenure() -> None:
    entry = Lifecycle(activated_at=days_ago(900), cancelled_at=days_ago(20), owner_name=OWNER.name,
                      owner_id_number=OWNER.id_number)
    report = check(entry, days_ago(400).date(), OWNER)
    assert (report.reassigned, report.line_status, report.tenure) == (Reassigned.CANCELLED, LineStatus.EMPTY, Tenure.UNKNOWN)
    assert report.identity == IdentityMatch.NOT_FOUND  # carriers find no holder for a cancelled number
    # re-issued since the cancellation: no longer cancelled, and re-issued since the binding
    again = Lifecycle(activated_at=days_ago(900), cancelled_at=days_ago(20), reissued_at=days_ago(5))
    assert check(again, days_ago(400).date()).reassigned == Reassigned.YES
    assert check(again, days_ago(400).date()).line_status == LineStatus.NORMAL


def test_dates_after_the_check_are_not_known_yet() -> None:
    entry = Lifecycle(activated_at=days_ago(900), cancelled_at=NOW + timedelta(days=3))
    assert check(entry, days_ago(400).date()).reassigned == Reassigned.NO


def test_a_number_not_in_the_registry_is_unknown() -> None:
    report = check(None, days_ago(10).date(), OWNER)
    assert (report.reassigned, report.line_status, report.tenure) == (Reassigned.UNKNOWN, LineStatus.UNKNOWN, Tenure.UNKNOWN)
    assert report.identity == IdentityMatch.UNKNOWN
    assert report.virtual is None and report.ported is None and report.carrier is None


@pytest.mark.parametrize(
    ("start_days", "bucket"),
    [(10, Tenure.UNDER_3M), (100, Tenure.M3_TO_6), (200, Tenure.M6_TO_12), (400, Tenure.M12_TO_24),
     (800, Tenure.OVER_24M)],
)
def test_tenure_buckets_count_from_activation_reissue_or_port_in(start_days: int, bucket: Tenure) -> None:
    assert check(Lifecycle(activated_at=days_ago(start_days)), days_ago(1).date()).tenure == bucket
    reissued = Lifecycle(activated_at=days_ago(3000), cancelled_at=days_ago(start_days + 50),
                         reissued_at=days_ago(start_days))
    assert check(reissued, days_ago(1).date()).tenure == bucket
    ported = Lifecycle(activated_at=days_ago(3000), ported_at=days_ago(start_days))
    assert check(ported, days_ago(1).date()).tenure == bucket


def test_ported_recently_or_long_ago() -> None:
    recent = check(Lifecycle(activated_at=days_ago(900), ported_at=days_ago(30), carrier="China Unicom"), days_ago(500).date())
    assert recent.ported is True and recent.recent_port_or_swap is True and recent.carrier == "China Unicom"
    old = check(Lifecycle(activated_at=days_ago(900), ported_at=days_ago(200)), days_ago(500).date())
    assert old.ported is True and old.recent_port_or_swap is False
    never = check(Lifecycle(activated_at=days_ago(900), virtual=True, status=LineStatus.SHUT_DOWN), days_ago(500).date())
    assert never.ported is False and never.virtual is True and never.line_status == LineStatus.SHUT_DOWN


def test_identity_matches_the_holder_or_not() -> None:
    entry = Lifecycle(activated_at=days_ago(900), owner_name=OWNER.name, owner_id_number=OWNER.id_number)
    assert check(entry, days_ago(500).date(), OWNER).identity == IdentityMatch.MATCH
    lower_x = Identity(name=f" {OWNER.name} ", id_number=OWNER.id_number.lower())
    assert check(entry, days_ago(500).date(), lower_x).identity == IdentityMatch.MATCH
    assert check(entry, days_ago(500).date(), Identity(name="李四", id_number=OWNER.id_number)).identity == IdentityMatch.MISMATCH
    assert check(entry, days_ago(500).date(), Identity(name=OWNER.name, id_number="110101199001019999")).identity == IdentityMatch.MISMATCH
    assert check(entry, days_ago(500).date()).identity is None  # not asked
    assert check(Lifecycle(activated_at=days_ago(900)), days_ago(500).date(), OWNER).identity == IdentityMatch.NOT_FOUND


async def test_the_provider_reads_the_sealed_registry(fresh: Desk) -> None:
    sessions = make_session_factory(fresh.engine)
    with sessions() as session, session.begin():
        register(session, fresh.keyring, NUMBER, Lifecycle(
            activated_at=days_ago(900), cancelled_at=days_ago(200), reissued_at=days_ago(100),
            carrier="China Mobile", region="Beijing", owner_name=OWNER.name, owner_id_number=OWNER.id_number,
        ))
    provider = SandboxProvider(sessions, fresh.keyring, clock=lambda: NOW)
    report = await provider.check(NUMBER, reference_date=days_ago(300).date(), identity=OWNER)
    assert (report.reassigned, report.identity, report.carrier) == (Reassigned.YES, IdentityMatch.MATCH, "China Mobile")
    unknown = await provider.check(OTHER, reference_date=days_ago(300).date())
    assert unknown.reassigned == Reassigned.UNKNOWN

    with sessions() as session, session.begin():  # a change shows at once
        change(session, fresh.keyring, NUMBER, cancelled_at=days_ago(2))
    assert (await provider.check(NUMBER, reference_date=days_ago(50).date())).reassigned == Reassigned.CANCELLED
    with fresh.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT phone_enc, phone_index, owner_name_enc, owner_id_number_enc "
                                   "FROM number_lifecycle")).one()
        assert conn.scalar(sa.text("SELECT count(*) FROM number_lifecycle")) == 1  # replaced, not added
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    for plain in (NUMBER, NUMBER[3:], OWNER.name, OWNER.id_number):
        assert plain.encode() not in stored


async def test_rotation_reseals_the_registry_and_lookups_still_find_it(fresh: Desk) -> None:
    sessions = make_session_factory(fresh.engine)
    with sessions() as session, session.begin():
        register(session, fresh.keyring, NUMBER, Lifecycle(activated_at=days_ago(900), owner_name=OWNER.name,
                                                           owner_id_number=OWNER.id_number))
    fresh.keyring.add(2, b"r" * 32)
    with fresh.engine.begin() as conn:
        from linkdesk.server import keys

        keys.register(conn, fresh.keyring, 2, 18, NOW)
    plan = begin(fresh.engine, fresh.keyring, grace=0)
    result = rotate(fresh.engine, fresh.keyring, plan.target, previous=plan.previous)
    assert result.failures == [] and result.left == 0
    with fresh.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT key_version FROM number_lifecycle")) == 2
    with sessions() as session:
        entry = lookup(session, fresh.keyring, NUMBER)
    assert entry is not None and entry.owner_name == OWNER.name
