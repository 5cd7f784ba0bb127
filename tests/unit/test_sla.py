"""Business time on the mainland calendar, due dates, pauses, urgency and the policy file."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkdesk.domain.business_calendar import BusinessCalendar
from linkdesk.domain.sla import (
    Urgency,
    deadlines,
    due_at,
    end_of_business_today,
    paused_for,
    resume,
    soon_at,
    urgency,
)
from linkdesk.domain.sla_policy import SlaPolicyError, default_policy, load_policy

CAL = default_policy().business_calendar
H = timedelta(hours=1)


def local(y: int, m: int, d: int, h: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time, as UTC."""
    return datetime(y, m, d, h, minute, tzinfo=UTC) - timedelta(hours=8)


def test_spring_festival_2026_and_its_make_up_days() -> None:
    for day in range(15, 24):  # 15–23 Feb: the holiday, weekends included
        assert not CAL.is_working_day(date(2026, 2, day)), day
    assert CAL.is_working_day(date(2026, 2, 14))  # Saturday, worked
    assert CAL.is_working_day(date(2026, 2, 28))  # Saturday, worked
    assert CAL.is_working_day(date(2026, 2, 24))
    assert not CAL.is_working_day(date(2026, 2, 21))  # a Saturday inside the holiday
    assert not CAL.is_working_day(date(2026, 3, 1))  # an ordinary Sunday


def test_national_day_2026() -> None:
    assert all(not CAL.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CAL.is_working_day(date(2026, 9, 20))  # Sunday before, worked
    assert CAL.is_working_day(date(2026, 10, 10))  # Saturday after, worked
    assert CAL.is_working_day(date(2026, 10, 8))


def test_business_time_jumps_the_holiday_and_counts_the_make_up_saturday() -> None:
    friday = local(2026, 2, 13, 16)  # Friday 16:00, the eve of the make-up Saturday
    assert CAL.add(friday, 2 * H) == local(2026, 2, 13, 18)  # a boundary is the end of the day
    assert CAL.add(friday, 3 * H) == local(2026, 2, 14, 10)  # Saturday 14 Feb is worked
    assert CAL.add(local(2026, 2, 14, 17), 2 * H) == local(2026, 2, 24, 10)  # 15–23 Feb off
    assert CAL.between(local(2026, 2, 14, 17), local(2026, 2, 24, 10)) == 2 * H
    # National Day: Wednesday 30 Sep 17:00 + 27h (normal resolution)
    assert CAL.add(local(2026, 9, 30, 17), 27 * H) == local(2026, 10, 10, 17)


def test_outside_working_hours_counts_from_the_next_working_moment() -> None:
    assert CAL.add(local(2026, 11, 2, 7), H) == local(2026, 11, 2, 10)  # Monday before 9
    assert CAL.add(local(2026, 11, 6, 20), H) == local(2026, 11, 9, 10)  # Friday evening → Monday
    assert CAL.add(local(2026, 11, 2, 9), 9 * H) == local(2026, 11, 2, 18)  # a whole day ends at 18:00


def test_privacy_requests_are_due_at_the_end_of_the_15th_working_day() -> None:
    received = local(2026, 9, 28, 10)  # Monday
    for priority in ("urgent", "low"):
        # 29, 30 Sep, 8, 9, 10 (Saturday worked), 12–16, 19–23 Oct = 15
        assert due_at("privacy_request", priority, received) == local(2026, 10, 23, 18)
    assert CAL.end_of_working_day(local(2026, 2, 15, 12), 1) == local(2026, 2, 24, 18)  # received in the holiday


def test_targets_follow_the_policy() -> None:
    received = local(2026, 11, 2, 10)
    urgent = deadlines("rebind", "urgent", received)
    assert (urgent.first_response, urgent.resolution) == (local(2026, 11, 2, 10, 30), local(2026, 11, 2, 14))
    incident = deadlines("privacy_incident", "normal", received)  # a category override
    assert incident.first_response == local(2026, 11, 2, 11)
    assert incident.resolution == local(2026, 11, 3, 10)


def test_pause_and_resume() -> None:
    due = local(2026, 11, 4, 12)
    paused = paused_for(local(2026, 11, 2, 17), local(2026, 11, 3, 10))  # Mon 17:00 → Tue 10:00
    assert paused == 2 * H
    assert resume(due, paused) == local(2026, 11, 4, 14)
    assert paused_for(local(2026, 11, 7, 10), local(2026, 11, 8, 16)) == timedelta(0)  # a weekend costs nothing
    assert resume(due, timedelta(0)) == due


def test_urgency() -> None:
    now = local(2026, 11, 2, 10)
    due_today = local(2026, 11, 2, 17)
    assert urgency(now=now, due=now - H) is Urgency.BREACHED
    assert urgency(now=now, due=now - H, paused=True) is Urgency.PAUSED
    assert urgency(now=now, due=now - H, is_open=False) is Urgency.DONE
    assert urgency(now=now, due=due_today, soon=soon_at(due_today)) is Urgency.TODAY
    assert urgency(now=now, due=local(2026, 11, 2, 11), soon=soon_at(local(2026, 11, 2, 11))) is Urgency.SOON
    assert urgency(now=now, due=local(2026, 11, 5, 11), first_response_due=now - H) is Urgency.SOON
    assert urgency(now=now, due=local(2026, 11, 5, 11), first_response_due=now - H,
                   first_responded=now - 2 * H) is Urgency.LATER
    # two business hours before Monday 10:00 is Friday 17:00
    assert soon_at(local(2026, 11, 9, 10)) == local(2026, 11, 6, 17)
    assert end_of_business_today(now) == local(2026, 11, 2, 18)
    assert end_of_business_today(local(2026, 11, 7, 10)) == local(2026, 11, 7, 10)  # Saturday


moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
spans = st.integers(min_value=1, max_value=400 * 3600).map(lambda s: timedelta(seconds=s))


@settings(max_examples=200, deadline=None)
@given(moments, spans, spans)
def test_adding_business_time_is_monotonic_and_never_goes_back(start: datetime, a: timedelta, b: timedelta) -> None:
    small, large = sorted((a, b))
    assert CAL.add(start, small) > start
    assert CAL.add(start, small) <= CAL.add(start, large)
    assert CAL.between(start, CAL.add(start, large)) == large  # adding and measuring agree


@settings(max_examples=100, deadline=None)
@given(moments, st.sampled_from(["rebind", "privacy_request", "exposure"]),
       st.sampled_from(["urgent", "high", "normal", "low"]))
def test_due_dates_are_after_receipt_in_working_hours(received: datetime, category: str, priority: str) -> None:
    due = deadlines(category, priority, received)
    for moment in (due.first_response, due.resolution):
        assert moment > received
        shanghai = CAL.local(moment)
        assert CAL.is_working_day(shanghai.date())
        assert time(9) < shanghai.time() <= time(18)


def test_a_calendar_needs_working_hours() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        BusinessCalendar(time(18), time(9))


def test_an_override_file_is_merged_and_bad_keys_are_named(tmp_path: Path) -> None:
    good = tmp_path / "sla.toml"
    good.write_text("[priorities.urgent]\nresolution_hours = 2.0\n[calendar]\nwork_start = 08:30:00\n")
    policy = load_policy(good)
    assert policy.targets("rebind", "urgent").resolution == 2 * H
    assert policy.targets("rebind", "urgent").first_response == H / 2  # untouched default
    assert policy.targets("rebind", "normal").resolution == 27 * H
    assert policy.business_calendar.day_length == timedelta(hours=9, minutes=30)
    assert policy.label != default_policy().label
    bad = tmp_path / "bad.toml"
    bad.write_text("[priorities.urgent]\nresolution_hour = 2\n[categories.nonsense.urgent]\nresolution_hours = 1\n")
    with pytest.raises(SlaPolicyError) as error:
        load_policy(bad)
    assert "priorities.urgent.resolution_hour" in str(error.value)
    assert "categories.nonsense" in str(error.value)
    backwards = tmp_path / "backwards.toml"
    backwards.write_text("[calendar]\nwork_end = 08:00:00\n")
    with pytest.raises(SlaPolicyError, match="work_end"):
        load_policy(backwards)
    with pytest.raises(SlaPolicyError, match="not valid TOML"):
        (tmp_path / "broken.toml").write_text("[priorities")
        load_policy(tmp_path / "broken.toml")
