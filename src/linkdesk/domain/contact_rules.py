"""The collection guidelines as pure rules: who may be contacted, when, and how often.

Sources (``../shared/reference/helpdesk-and-compliance.md`` §2): NIFA 《互联网金融贷后催收
业务指引》 (2024) — collect only from the debtor, never from their contacts; no calls
22:00–08:00 local time; at most 3 connected calls a day per debtor — and the CBA
《金融机构个人消费类贷款催收工作指引(试行)》 (times, frequency, contact sourcing).

Nothing here reads a clock or a database: the caller passes ``now`` and the count of
connected calls already made on the borrower's local day (the desk counts them from
the contact log). Rules about the number itself (do-not-contact, stop contact, a
binding no longer the borrower's) need the desk's data and live in
``server/do_not_contact.py``; they run between the party rule and the time rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from linkdesk.domain.contact import (
    ContactChannel,
    ContactDirection,
    ContactOutcome,
    ContactParty,
    ContactRule,
)

DEFAULT_TIMEZONE = "Asia/Shanghai"
QUIET_FROM = time(22, 0)
QUIET_UNTIL = time(8, 0)
CONNECTED_CALLS_PER_DAY = 3
_CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


def zone(name: str) -> tzinfo:
    """The named time zone; Asia/Shanghai works without a tz database (UTC+8, no DST
    since 1991)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        if name == DEFAULT_TIMEZONE:
            return _CHINA_STANDARD_TIME
        raise ValueError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class CollectionPolicy:
    timezone: str = DEFAULT_TIMEZONE
    quiet_from: time = QUIET_FROM
    quiet_until: time = QUIET_UNTIL
    connected_calls_per_day: int = CONNECTED_CALLS_PER_DAY

    @property
    def tz(self) -> tzinfo:
        return zone(self.timezone)


@dataclass(frozen=True)
class Attempt:
    """A contact about to be made (``outcome`` None) or being logged (its outcome)."""

    channel: ContactChannel = ContactChannel.CALL
    party: ContactParty = ContactParty.DEBTOR
    direction: ContactDirection = ContactDirection.OUTBOUND
    outcome: ContactOutcome | None = None


@dataclass(frozen=True)
class Refusal:
    rule: ContactRule
    detail: str
    allowed_from: datetime | None = None
    """When contact becomes allowed again (UTC), for the time rules."""


def local_day(now: datetime, policy: CollectionPolicy) -> tuple[datetime, datetime]:
    """The local day ``now`` falls in, as a UTC ``[start, end)``: the daily limit counts in it."""
    local = now.astimezone(policy.tz)
    start = datetime.combine(local.date(), time(0), tzinfo=policy.tz)
    end = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=policy.tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def in_quiet_hours(now: datetime, policy: CollectionPolicy) -> bool:
    clock = now.astimezone(policy.tz).time()
    if policy.quiet_from <= policy.quiet_until:  # a window inside one day
        return policy.quiet_from <= clock < policy.quiet_until
    return clock >= policy.quiet_from or clock < policy.quiet_until


def quiet_hours_end(now: datetime, policy: CollectionPolicy) -> datetime:
    """When the quiet hours ``now`` falls in end (UTC)."""
    local = now.astimezone(policy.tz)
    day = local.date() if local.time() < policy.quiet_until else local.date() + timedelta(days=1)
    return datetime.combine(day, policy.quiet_until, tzinfo=policy.tz).astimezone(UTC)


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


_PARTY_WORDS = {
    ContactParty.THIRD_PARTY: "a third party",
    ContactParty.EMERGENCY_CONTACT: "their emergency contact",
    ContactParty.FAMILY: "their family",
    ContactParty.EMPLOYER: "their employer",
}


def party_rule(attempt: Attempt) -> Refusal | None:
    if attempt.direction is ContactDirection.OUTBOUND and attempt.party is not ContactParty.DEBTOR:
        return Refusal(
            ContactRule.NOT_DEBTOR,
            f"collection contacts the debtor only, not {_PARTY_WORDS[attempt.party]} "
            "(NIFA post-loan collection guidelines)",
        )
    return None


def time_rules(
    attempt: Attempt, now: datetime, policy: CollectionPolicy, *, connected_calls_today: int
) -> Refusal | None:
    """Quiet hours, then the daily limit of connected calls. An unknown outcome (asking
    before calling) counts as a call that may connect; a logged call that did not
    connect (no answer, busy, …) is not held against the limit."""
    if attempt.direction is not ContactDirection.OUTBOUND:
        return None
    if in_quiet_hours(now, policy):
        until = quiet_hours_end(now, policy)
        local = until.astimezone(policy.tz)
        return Refusal(
            ContactRule.QUIET_HOURS,
            f"no contact between {_hhmm(policy.quiet_from)} and {_hhmm(policy.quiet_until)} "
            f"({policy.timezone}); allowed again at {local:%Y-%m-%d %H:%M}",
            allowed_from=until,
        )
    counts = attempt.channel is ContactChannel.CALL and attempt.outcome in (None, ContactOutcome.CONNECTED)
    if counts and connected_calls_today >= policy.connected_calls_per_day:
        _start, end = local_day(now, policy)
        tomorrow = max(end, quiet_hours_end(end, policy)) if in_quiet_hours(end, policy) else end
        return Refusal(
            ContactRule.DAILY_CALL_LIMIT,
            f"{connected_calls_today} connected calls to this borrower today already; at most "
            f"{policy.connected_calls_per_day} a day (allowed again "
            f"{tomorrow.astimezone(policy.tz):%Y-%m-%d %H:%M})",
            allowed_from=tomorrow,
        )
    return None


def check(
    attempt: Attempt, now: datetime, policy: CollectionPolicy, *, connected_calls_today: int
) -> Refusal | None:
    """The party and time rules, first refusal first (the number rules run between)."""
    return party_rule(attempt) or time_rules(
        attempt, now, policy, connected_calls_today=connected_calls_today
    )
