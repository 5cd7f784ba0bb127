"""Case queries (what the inbox asks for) and the built-in views of the inbox."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

from linkdesk.domain.cases import CaseCategory, CaseStatus, Priority


class CaseState(enum.StrEnum):
    OPEN = "open"  # new, open, pending, on_hold
    DONE = "done"  # resolved, closed
    ALL = "all"


class CaseSort(enum.StrEnum):
    UPDATED_DESC = "-updated"
    UPDATED = "updated"
    CREATED_DESC = "-created"
    CREATED = "created"
    DUE = "due"
    DUE_DESC = "-due"


class CaseQuery(BaseModel):
    """A filter over cases; also the query string of ``GET /api/v1/cases``.

    ``assignee`` is an agent name, ``me`` for the caller, or ``none`` for unassigned.
    ``q`` matches subject and body (Chinese of two characters and more, English
    words), a case ref (``LD-000123``) and the last four digits of the number.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: CaseState = CaseState.OPEN
    status: CaseStatus | None = None
    category: CaseCategory | None = None
    priority: Priority | None = None
    assignee: str | None = None
    q: str | None = Field(default=None, max_length=200)
    risk_min: int | None = Field(default=None, ge=0, le=100)
    """Only cases whose risk score is at least this (``risk:>=60`` in the inbox filter);
    cases never scored do not match."""
    filter: str | None = Field(default=None, max_length=500)
    """The filter language (docs/filters.md), on top of the fields above; a ``status:``
    term replaces ``state``."""
    sort: CaseSort = CaseSort.UPDATED_DESC

    def params(self) -> dict[str, str]:
        """Only the fields that differ from the defaults, as query parameters."""
        return {
            key: str(value)
            for key, value in self.model_dump(mode="json", exclude_defaults=True).items()
            if value is not None
        }


class CaseCount(BaseModel):
    """``GET /cases/count``: how many cases match, up to a cap (then ``capped``)."""

    count: int
    capped: bool = False


class View(BaseModel):
    """A named query with its count, as listed beside the inbox."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    count: int
    query: CaseQuery


CATEGORY_TITLES: dict[CaseCategory, str] = {
    CaseCategory.REBIND: "Rebind",
    CaseCategory.RECYCLED_NUMBER: "Recycled number",
    CaseCategory.IMPERSONATION: "Impersonation",
    CaseCategory.UNREACHABLE: "Unreachable",
    CaseCategory.PRIVACY_REQUEST: "Privacy request",
    CaseCategory.PRIVACY_INCIDENT: "Privacy incident",
    CaseCategory.RISK_ALERT: "Risk alert",
    CaseCategory.EXPOSURE: "Exposure",
}
"""English titles; they are also the keys of the translation catalogs."""


def builtin_views() -> list[tuple[str, str, CaseQuery]]:
    """(id, English title, query) of the views every desk has, in sidebar order."""
    views = [
        ("open", "All open", CaseQuery()),
        ("mine", "Mine", CaseQuery(assignee="me")),
        ("unassigned", "Unassigned", CaseQuery(assignee="none")),
        ("urgent", "Urgent", CaseQuery(priority=Priority.URGENT)),
        ("risk_alerts", "Open risk alerts", CaseQuery(category=CaseCategory.RISK_ALERT)),
        # open, resolution or first response due before today's working hours end, or overdue
        ("breaching_today", "Breaching today", CaseQuery(filter="sla:today", sort=CaseSort.DUE)),
    ]
    views += [(f"cat:{cat}", CATEGORY_TITLES[cat], CaseQuery(category=cat)) for cat in CaseCategory]
    return views
