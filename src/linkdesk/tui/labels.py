"""Translated names of the domain's enums and the desk's view titles.

The desk sends English view titles; they are msgids of the catalogs, marked here
with :func:`N_` so the catalog test finds them.
"""

from __future__ import annotations

from linkdesk.domain.agents import Role
from linkdesk.domain.cases import CaseCategory, CaseStatus, EventKind, Priority
from linkdesk.domain.phones import BindingStatus
from linkdesk.domain.text import clean_line
from linkdesk.i18n import _


def N_(text: str) -> str:
    """Mark ``text`` for translation without translating it yet."""
    return text


VIEW_TITLES = (
    N_("All open"),
    N_("Mine"),
    N_("Unassigned"),
    N_("Urgent"),
)

CATEGORIES: dict[CaseCategory, str] = {
    CaseCategory.REBIND: N_("Rebind"),
    CaseCategory.RECYCLED_NUMBER: N_("Recycled number"),
    CaseCategory.IMPERSONATION: N_("Impersonation"),
    CaseCategory.UNREACHABLE: N_("Unreachable"),
    CaseCategory.PRIVACY_REQUEST: N_("Privacy request"),
    CaseCategory.PRIVACY_INCIDENT: N_("Privacy incident"),
    CaseCategory.RISK_ALERT: N_("Risk alert"),
    CaseCategory.EXPOSURE: N_("Exposure"),
}

STATUSES: dict[CaseStatus, str] = {
    CaseStatus.NEW: N_("new"),
    CaseStatus.OPEN: N_("open"),
    CaseStatus.PENDING: N_("pending"),
    CaseStatus.ON_HOLD: N_("on hold"),
    CaseStatus.RESOLVED: N_("resolved"),
    CaseStatus.CLOSED: N_("closed"),
}

PRIORITIES: dict[Priority, str] = {
    Priority.URGENT: N_("urgent"),
    Priority.HIGH: N_("high"),
    Priority.NORMAL: N_("normal"),
    Priority.LOW: N_("low"),
}

EVENT_KINDS: dict[EventKind, str] = {
    EventKind.CREATED: N_("created"),
    EventKind.COMMENT: N_("comment"),
    EventKind.NOTE: N_("internal note"),
    EventKind.STATUS: N_("status"),
    EventKind.PRIORITY: N_("priority"),
    EventKind.ASSIGNMENT: N_("assignment"),
    EventKind.SUBJECT: N_("subject"),
    EventKind.INTEL: N_("intel check"),
    EventKind.REVEAL: N_("reveal"),
    EventKind.REBIND: N_("rebind"),
}

BINDING_STATUSES: dict[BindingStatus, str] = {
    BindingStatus.ACTIVE: N_("active"),
    BindingStatus.UNBOUND: N_("unbound"),
    BindingStatus.REASSIGNED: N_("reassigned"),
    BindingStatus.SUSPENDED: N_("suspended"),
}

ROLES: dict[Role, str] = {
    Role.AGENT: N_("agent"),
    Role.SUPERVISOR: N_("supervisor"),
    Role.RISK_ANALYST: N_("risk analyst"),
    Role.COMPLIANCE: N_("compliance"),
    Role.ADMIN: N_("admin"),
}


def category(value: CaseCategory) -> str:
    return _(CATEGORIES[value])


def status(value: CaseStatus) -> str:
    return _(STATUSES[value])


def priority(value: Priority) -> str:
    return _(PRIORITIES[value])


def event_kind(value: EventKind) -> str:
    return _(EVENT_KINDS[value])


def binding_status(value: BindingStatus) -> str:
    return _(BINDING_STATUSES[value])


def role(value: Role) -> str:
    return _(ROLES[value])


def view_title(title: str) -> str:
    """A desk view title in the current language (unknown titles stay as sent, cleaned)."""
    return _(clean_line(title))
