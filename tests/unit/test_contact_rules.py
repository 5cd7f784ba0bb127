"""The collection rules: debtor only, quiet hours 22:00–08:00 local, 3 connected calls a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkdesk.domain.contact import (
    ContactChannel,
    ContactDirection,
    ContactOutcome,
    ContactParty,
    ContactRule,
)
from linkdesk.domain.contact_rules import (
    Attempt,
    CollectionPolicy,
    check,
    in_quiet_hours,
    local_day,
    quiet_hours_end,
    zone,
)

POLICY = CollectionPolicy()
SHANGHAI = zone("Asia/Shanghai")
CALL = Attempt()


def at(hour: int, minute: int = 0, day: int = 20) -> datetime:
    """A Shanghai wall-clock time on 2026-11-``day``."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("hour", "minute"), [(22, 0), (23, 59), (0, 0), (7, 59)])
def test_quiet_hours_refuse_and_say_when_contact_is_allowed(hour: int, minute: int) -> None:
    refusal = check(CALL, at(hour, minute), POLICY, connected_calls_today=0)
    assert refusal is not None and refusal.rule is ContactRule.QUIET_HOURS
    expected = at(8, 0, day=20 if hour < 8 else 21)
    assert refusal.allowed_from == expected.astimezone(UTC)
    assert f"{expected:%Y-%m-%d} 08:00" in refusal.detail


@pytest.mark.parametrize(("hour", "minute"), [(8, 0), (12, 30), (21, 59)])
def test_daytime_is_allowed(hour: int, minute: int) -> None:
    assert check(CALL, at(hour, minute), POLICY, connected_calls_today=0) is None


def test_quiet_hours_follow_the_desk_time_zone() -> None:
    nine_am_shanghai = at(9)  # 10:00 in Tokyo, 01:00 in London
    assert check(CALL, nine_am_shanghai, CollectionPolicy(timezone="Asia/Tokyo"), connected_calls_today=0) is None
    london = check(CALL, nine_am_shanghai, CollectionPolicy(timezone="Europe/London"), connected_calls_today=0)
    assert london is not None and london.rule is ContactRule.QUIET_HOURS


def test_fourth_connected_call_is_refused_but_a_fourth_unanswered_one_is_logged() -> None:
    connected = Attempt(outcome=ContactOutcome.CONNECTED)
    assert check(connected, at(15), POLICY, connected_calls_today=2) is None
    refusal = check(connected, at(15), POLICY, connected_calls_today=3)
    assert refusal is not None and refusal.rule is ContactRule.DAILY_CALL_LIMIT
    assert refusal.allowed_from == at(8, day=21).astimezone(UTC)  # tomorrow, after quiet hours
    assert check(Attempt(outcome=ContactOutcome.NO_ANSWER), at(15), POLICY, connected_calls_today=3) is None
    # asking before calling: the call may connect, so it is refused too
    assert check(CALL, at(15), POLICY, connected_calls_today=3).rule is ContactRule.DAILY_CALL_LIMIT  # type: ignore[union-attr]
    # the limit is on calls: an SMS is not counted against it
    sms = Attempt(channel=ContactChannel.SMS, outcome=ContactOutcome.DELIVERED)
    assert check(sms, at(15), POLICY, connected_calls_today=3) is None


@pytest.mark.parametrize("party", [p for p in ContactParty if p is not ContactParty.DEBTOR])
def test_anyone_but_the_debtor_is_refused(party: ContactParty) -> None:
    refusal = check(Attempt(party=party), at(10), POLICY, connected_calls_today=0)
    assert refusal is not None and refusal.rule is ContactRule.NOT_DEBTOR
    assert party.replace("_", " ") in refusal.detail


def test_inbound_contact_is_never_refused() -> None:
    inbound = Attempt(direction=ContactDirection.INBOUND, party=ContactParty.FAMILY, outcome=ContactOutcome.CONNECTED)
    assert check(inbound, at(23), POLICY, connected_calls_today=9) is None


def test_local_day_is_the_shanghai_day() -> None:
    start, end = local_day(at(0, 30), POLICY)
    assert start == datetime(2026, 11, 19, 16, tzinfo=UTC) and end - start == timedelta(days=1)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_quiet_hours_are_exactly_22_to_8_local(now: datetime) -> None:
    local = now.astimezone(SHANGHAI)
    quiet = local.hour >= 22 or local.hour < 8
    assert in_quiet_hours(now, POLICY) is quiet
    refusal = check(CALL, now, POLICY, connected_calls_today=0)
    assert (refusal is not None) is quiet
    if quiet:
        end = quiet_hours_end(now, POLICY)
        assert timedelta(0) < end - now <= timedelta(hours=10)
        assert end.astimezone(SHANGHAI).time().isoformat() == "08:00:00"
        assert not in_quiet_hours(end, POLICY) and in_quiet_hours(end - timedelta(microseconds=1), POLICY)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_the_local_day_contains_now(now: datetime) -> None:
    start, end = local_day(now, POLICY)
    assert start <= now < end and end - start == timedelta(days=1)
    assert start.astimezone(SHANGHAI).time().isoformat() == "00:00:00"
