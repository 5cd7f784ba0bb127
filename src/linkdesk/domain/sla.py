"""Service-level targets: due dates in business time, pauses, urgency.

A case has two targets (:mod:`linkdesk.domain.sla_policy`): a **first response** (the
first public comment by an agent) and a **resolution** (``sla_due_at``), each a span of
business time on the mainland calendar (:mod:`linkdesk.domain.business_calendar`)
from when the case was received. ``privacy_request`` cases are due at the end of the
15th working day after receipt, whatever the priority.

While a case is ``pending`` (waiting on the customer) its clocks stop: on leaving
``pending`` the due dates move out by the business time spent paused
(:func:`resume`).

Nothing here imports ``holidays`` at import time: the console uses
:func:`describe_remaining` and :func:`urgency` only, which need no calendar.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from linkdesk.domain.cases import CaseCategory, Priority
from linkdesk.domain.sla_policy import SlaPolicy, default_policy

SHANGHAI_OFFSET = timedelta(hours=8)
"""Asia/Shanghai has had no daylight saving since 1991: a fixed offset is exact."""


@dataclass(frozen=True)
class Deadlines:
    first_response: datetime
    resolution: datetime


def deadlines(
    category: CaseCategory | str,
    priority: Priority | str,
    received_at: datetime,
    policy: SlaPolicy | None = None,
) -> Deadlines:
    """When the first response and the resolution of a case received at ``received_at``
    are due."""
    policy = policy or default_policy()
    calendar = policy.business_calendar
    targets = policy.targets(category, priority)
    first = calendar.add(received_at, targets.first_response)
    if targets.resolution is None:  # privacy requests: working days (CaseCategory.PRIVACY_REQUEST)
        resolution = calendar.end_of_working_day(received_at, policy.privacy_request.working_days)
    else:
        resolution = calendar.add(received_at, targets.resolution)
    return Deadlines(first_response=first, resolution=resolution)


def due_at(
    category: CaseCategory | str,
    priority: Priority | str,
    received_at: datetime,
    policy: SlaPolicy | None = None,
) -> datetime:
    """When the resolution is due (``sla_due_at``)."""
    return deadlines(category, priority, received_at, policy).resolution


def paused_for(paused_at: datetime, now: datetime, policy: SlaPolicy | None = None) -> timedelta:
    """The business time between the start of a pause and ``now`` (never negative)."""
    policy = policy or default_policy()
    return max(policy.business_calendar.between(paused_at, now), timedelta(0))


def resume(due: datetime, paused: timedelta, policy: SlaPolicy | None = None) -> datetime:
    """``due`` pushed out by ``paused`` business time."""
    if paused <= timedelta(0):
        return due
    policy = policy or default_policy()
    return policy.business_calendar.add(due, paused)


def soon_at(due: datetime, policy: SlaPolicy | None = None) -> datetime:
    """From when a case due at ``due`` counts as due soon (the policy's ``soon_hours`` of
    business time before it)."""
    policy = policy or default_policy()
    return policy.business_calendar.add(due, -policy.soon)


def end_of_business_today(now: datetime, policy: SlaPolicy | None = None) -> datetime:
    """The cut-off of the "breaching today" view: the end of today's working hours (or
    ``now``, after hours and on days off)."""
    policy = policy or default_policy()
    return policy.business_calendar.end_of_today(now)


class Urgency(enum.StrEnum):
    BREACHED = "breached"
    """The resolution is overdue."""
    SOON = "soon"
    """Due within the policy's ``soon_hours`` of business time, or the first response is overdue."""
    TODAY = "today"
    """Due before today's working hours end (Shanghai)."""
    PAUSED = "paused"
    """Pending on the customer: the clocks are stopped."""
    LATER = "later"
    DONE = "done"
    """Resolved or closed."""


def urgency(
    *,
    now: datetime,
    due: datetime,
    is_open: bool = True,
    paused: bool = False,
    soon: datetime | None = None,
    first_response_due: datetime | None = None,
    first_responded: datetime | None = None,
) -> Urgency:
    """How pressing a case is, from what an inbox row carries (no calendar needed:
    ``soon`` is computed by the desk, see :func:`soon_at`)."""
    if not is_open:
        return Urgency.DONE
    if paused:
        return Urgency.PAUSED
    if due <= now:
        return Urgency.BREACHED
    if soon is not None and soon <= now:
        return Urgency.SOON
    if first_response_due is not None and first_responded is None and first_response_due <= now:
        return Urgency.SOON
    if (due + SHANGHAI_OFFSET).date() == (now.astimezone(UTC) + SHANGHAI_OFFSET).date():
        return Urgency.TODAY
    return Urgency.LATER


def describe_remaining(due: datetime, now: datetime) -> str:
    """``3h``, ``2d``, ``-12m`` (overdue): compact and language-neutral, for table cells."""
    seconds = int((due - now).total_seconds())
    span = abs(seconds)
    if span < 3600:
        text = f"{max(span // 60, 1)}m"
    elif span < 86400 * 2:
        text = f"{span // 3600}h"
    else:
        text = f"{span // 86400}d"
    return text if seconds >= 0 else f"-{text}"
