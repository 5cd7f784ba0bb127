"""Business time on the mainland calendar: working hours on working days, Asia/Shanghai.

A working day is a weekday that is not a public holiday, or a make-up working day
(调休, a Saturday or Sunday worked in exchange for a longer holiday). The ``holidays``
package knows both (``holidays.China``); it is imported the first time a calendar
needs a year, not when this module is, so the console never pays for it.

Business time is counted on a line that only moves during working hours: each working
day contributes ``work_end - work_start``. :meth:`BusinessCalendar.position` maps a
moment onto that line (a moment outside working hours maps to the next working
moment), :meth:`BusinessCalendar.add` moves along it and maps back. A due date that
lands exactly at the boundary between two working days is the *end* of the first
(18:00), not the start of the next (09:00). Both are a bisect over a sorted list of
working days, loaded a year at a time and cached, so a due date costs microseconds.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

_US = timedelta(microseconds=1)
_MARGIN_YEARS = 2
"""Years loaded beyond the one asked for, so a long target rarely extends the table."""


def _working_days(first_year: int, last_year: int) -> list[int]:
    """Ordinals of the working days of ``first_year`` … ``last_year``, in order."""
    from holidays.countries.china import China

    calendar = China(years=range(first_year, last_year + 1))
    day = date(first_year, 1, 1)
    end = date(last_year, 12, 31).toordinal()
    ordinal = day.toordinal()
    days = []
    while ordinal <= end:
        if calendar.is_working_day(date.fromordinal(ordinal)):
            days.append(ordinal)
        ordinal += 1
    return days


class BusinessCalendar:
    """Working hours ``work_start``–``work_end`` on mainland working days, in ``time_zone``."""

    def __init__(self, work_start: time, work_end: time, time_zone: str = "Asia/Shanghai") -> None:
        if not work_start < work_end:
            raise ValueError("the working day must end after it starts")
        self.zone = ZoneInfo(time_zone)
        self.work_start = work_start
        self.work_end = work_end
        start = timedelta(hours=work_start.hour, minutes=work_start.minute, seconds=work_start.second)
        end = timedelta(hours=work_end.hour, minutes=work_end.minute, seconds=work_end.second)
        self._start_us = start // _US
        self.day_length = end - start
        self._day_us = self.day_length // _US
        self._lock = threading.Lock()
        self._midnights: dict[int, datetime] = {}
        self._table: tuple[int, int, list[int]] = (0, -1, [])
        """(first year, last year, working-day ordinals): replaced whole, never mutated."""

    # -- the table of working days ---------------------------------------------------

    def _days_for(self, *years: int) -> tuple[int, list[int]]:
        """The table covering ``years`` (loading what is missing): (first year, days)."""
        first, last, days = self._table
        low, high = min(years), max(years)
        if first <= low and high <= last:
            return first, days
        with self._lock:
            first, last, days = self._table
            if not (first <= low and high <= last):
                if last < first:  # empty
                    first, last = low - _MARGIN_YEARS, high + _MARGIN_YEARS
                else:
                    first, last = min(first, low - _MARGIN_YEARS), max(last, high + _MARGIN_YEARS)
                days = _working_days(first, last)
                self._table = (first, last, days)
            return first, days

    def is_working_day(self, day: date) -> bool:
        _, days = self._days_for(day.year)
        ordinal = day.toordinal()
        index = bisect_left(days, ordinal)
        return index < len(days) and days[index] == ordinal

    # -- business time ---------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def _position(self, local: datetime, days: list[int]) -> int:
        ordinal = local.toordinal()
        index = bisect_left(days, ordinal)
        if index < len(days) and days[index] == ordinal:
            into = (local.hour * 3600 + local.minute * 60 + local.second) * 1_000_000
            into += local.microsecond - self._start_us
            return index * self._day_us + min(max(into, 0), self._day_us)
        return index * self._day_us  # a day off: the start of the next working day

    def _moment(self, position: int, days: list[int]) -> datetime | None:
        index, into = divmod(position, self._day_us)
        if into == 0 and index > 0:  # a boundary is the end of the earlier day
            index, into = index - 1, self._day_us
        if index >= len(days):
            return None
        return self._midnight(days[index]) + timedelta(microseconds=self._start_us + into)

    def _midnight(self, ordinal: int) -> datetime:
        """The start of a local day, in UTC (cached: the zone lookup is the slow part)."""
        start = self._midnights.get(ordinal)
        if start is None:
            start = datetime.combine(date.fromordinal(ordinal), time(), tzinfo=self.zone).astimezone(UTC)
            if len(self._midnights) > 20_000:
                self._midnights.clear()
            self._midnights[ordinal] = start
        return start

    def add(self, moment: datetime, business: timedelta) -> datetime:
        """``moment`` plus ``business`` time counted in working hours only (negative
        ``business`` goes back). The answer is always inside working hours."""
        local = self.local(moment)
        span = business // _US
        years = 1 + int(span / (self._day_us * 200)) if span > 0 else 0
        while True:
            _, days = self._days_for(local.year, local.year + years)
            answer = self._moment(max(self._position(local, days) + span, 0), days)
            if answer is not None:
                return answer
            years += 1

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        a, b = self.local(start), self.local(end)
        _, days = self._days_for(a.year, b.year)
        return timedelta(microseconds=self._position(b, days) - self._position(a, days))

    def end_of_working_day(self, moment: datetime, working_days: int) -> datetime:
        """The end of the ``working_days``-th working day after ``moment``'s day (the day
        of receipt does not count; received on a day off, the next working day is day 1)."""
        if working_days < 1:
            raise ValueError("count at least one working day")
        local = self.local(moment)
        years = 1 + working_days // 200
        while True:
            _, days = self._days_for(local.year, local.year + years)
            index = bisect_right(days, local.toordinal()) + working_days - 1
            if index < len(days):
                day = date.fromordinal(days[index])
                return datetime.combine(day, self.work_end, tzinfo=self.zone).astimezone(UTC)
            years += 1

    def end_of_today(self, now: datetime) -> datetime:
        """When today's working hours end, or ``now`` itself when they are over or today
        is a day off: what falls due before this is due today."""
        local = self.local(now)
        if self.is_working_day(local.date()):
            end = datetime.combine(local.date(), self.work_end, tzinfo=self.zone).astimezone(UTC)
            return max(end, now)
        return now


@cache
def calendar_for(work_start: time, work_end: time, time_zone: str = "Asia/Shanghai") -> BusinessCalendar:
    """One shared (cached) calendar per set of working hours."""
    return BusinessCalendar(work_start, work_end, time_zone)
