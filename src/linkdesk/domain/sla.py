"""Service-level targets.

For now a resolution target per priority in calendar hours, and the 15-day limit
for privacy requests. Business time on the mainland calendar comes with the SLA
policies of the case workflows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from linkdesk.domain.cases import CaseCategory, Priority

RESOLUTION_TARGETS: dict[Priority, timedelta] = {
    Priority.URGENT: timedelta(hours=4),
    Priority.HIGH: timedelta(hours=24),
    Priority.NORMAL: timedelta(hours=72),
    Priority.LOW: timedelta(hours=120),
}
PRIVACY_REQUEST_LIMIT = timedelta(days=15)


def due_at(category: CaseCategory, priority: Priority, received_at: datetime) -> datetime:
    if category is CaseCategory.PRIVACY_REQUEST:
        return received_at + PRIVACY_REQUEST_LIMIT
    return received_at + RESOLUTION_TARGETS[priority]


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
