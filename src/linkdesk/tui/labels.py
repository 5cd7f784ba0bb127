"""Translated names of the domain's enums and the desk's view titles.

The desk sends English view titles; they are msgids of the catalogs, marked here
with :func:`N_` so the catalog test finds them.
"""

from __future__ import annotations

from linkdesk.domain.agents import Role
from linkdesk.domain.audit import AuditAction
from linkdesk.domain.cases import CaseCategory, CaseStatus, EventKind, Priority
from linkdesk.domain.intel import IdentityMatch, LineStatus, Reassigned, Tenure
from linkdesk.domain.phones import BindingStatus
from linkdesk.domain.reveal import RevealField, RevealReason
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
    N_("Open risk alerts"),
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
    EventKind.SLA_BREACH: N_("SLA breach"),  # issue 5: SLAs
    EventKind.SLA_PAUSE: N_("SLA clock"),
    EventKind.TAGS: N_("tags"),  # issue 5: bulk work
    EventKind.CONTACT: N_("contact"),  # issue 5: contact compliance
    EventKind.MASKED_CALL: N_("masked call"),
    EventKind.PLAYBOOK: N_("playbook step"),  # issue 5: recycled-number playbook
    EventKind.UNBIND: N_("binding ended"),
    EventKind.CORRECTION: N_("correction"),  # issue 5: privacy requests
    EventKind.EXPORT: N_("data export"),
    EventKind.DELETION: N_("erasure"),
    EventKind.LEGAL_HOLD: N_("legal hold"),
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


REVEAL_REASONS: dict[RevealReason, str] = {
    RevealReason.BORROWER_ON_LINE: N_("borrower on the line"),
    RevealReason.IDENTITY_VERIFICATION: N_("identity verification"),
    RevealReason.PRIVACY_REQUEST: N_("privacy request"),
    RevealReason.LEGAL_REQUEST: N_("legal request"),
    RevealReason.INCIDENT_INVESTIGATION: N_("incident investigation"),
    RevealReason.FRAUD_INVESTIGATION: N_("fraud investigation"),
}

REVEAL_FIELDS: dict[RevealField, str] = {
    RevealField.PHONE: N_("the number"),
    RevealField.NAME: N_("the name"),
    RevealField.ID_NUMBER: N_("the ID number"),
}

AUDIT_ACTIONS: dict[AuditAction, str] = {
    AuditAction.REVEAL: N_("reveal"),
    AuditAction.REVEAL_FAILED: N_("reveal failed"),
    AuditAction.EXPORT: N_("export"),
    AuditAction.REBIND: N_("rebind"),
    AuditAction.UNBIND: N_("unbind"),
    AuditAction.DELETION: N_("deletion"),
    AuditAction.LOGIN: N_("sign-in"),
    AuditAction.AGENT_ADDED: N_("agent added"),
    AuditAction.TOKEN_ISSUED: N_("token issued"),
    AuditAction.ROLE_CHANGE: N_("role change"),
    AuditAction.AGENT_DISABLED: N_("agent disabled"),
    AuditAction.AGENT_ENABLED: N_("agent enabled"),
    AuditAction.SETTINGS_CHANGE: N_("settings change"),
    AuditAction.KEY_ROTATION: N_("key rotation"),
    AuditAction.CHECKPOINT: N_("checkpoint"),
    AuditAction.DNC_ADDED: N_("do-not-contact added"),
    AuditAction.DNC_REMOVED: N_("do-not-contact removed"),
}


RISK_LEVELS: dict[str, str] = {
    "low": N_("low"),
    "medium": N_("medium"),
    "high": N_("high"),
    "critical": N_("critical"),
}

SIGNALS: dict[str, str] = {
    "short_tenure": N_("Short tenure"),
    "line_down": N_("Line down"),
    "reassigned": N_("Reassigned"),
    "cancelled": N_("Cancelled"),
    "virtual_number": N_("Virtual number"),
    "identity_mismatch": N_("Identity mismatch"),
    "shared_number": N_("Shared number"),
    "repeated_rebinds": N_("Repeated rebinds"),
    "recent_port_or_swap": N_("Recent port or SIM swap"),
}
"""Risk signal codes (``domain/risk.py``) as the agent reads them on a badge."""

LINE_STATUSES: dict[LineStatus, str] = {
    LineStatus.NORMAL: N_("in service"),
    LineStatus.SHUT_DOWN: N_("shut down"),
    LineStatus.POWER_OFF: N_("powered off"),
    LineStatus.EMPTY: N_("not in service"),
    LineStatus.BUSY: N_("busy"),
    LineStatus.ABNORMAL: N_("abnormal"),
    LineStatus.UNKNOWN: N_("unknown"),
}

TENURES: dict[Tenure, str] = {
    Tenure.UNDER_3M: N_("under 3 months"),
    Tenure.M3_TO_6: N_("3–6 months"),
    Tenure.M6_TO_12: N_("6–12 months"),
    Tenure.M12_TO_24: N_("12–24 months"),
    Tenure.OVER_24M: N_("over 24 months"),
    Tenure.UNKNOWN: N_("unknown"),
}

REASSIGNED: dict[Reassigned, str] = {
    Reassigned.YES: N_("yes"),
    Reassigned.NO: N_("no"),
    Reassigned.CANCELLED: N_("cancelled"),
    Reassigned.UNKNOWN: N_("unknown"),
}

IDENTITY_MATCHES: dict[IdentityMatch, str] = {
    IdentityMatch.MATCH: N_("match"),
    IdentityMatch.MISMATCH: N_("mismatch"),
    IdentityMatch.NOT_FOUND: N_("not found"),
    IdentityMatch.UNKNOWN: N_("unknown"),
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


def risk_level(value: str | None) -> str:
    """A risk level in the current language (an unknown level as sent, cleaned)."""
    if value is None:
        return "—"
    label = RISK_LEVELS.get(str(value))
    return _(label) if label else clean_line(str(value))


def signal(code: str) -> str:
    """A risk signal's badge label (an unknown code as sent, cleaned)."""
    label = SIGNALS.get(str(code))
    return _(label) if label else clean_line(str(code))


def _enum_label(table: dict, value: object) -> str:  # type: ignore[type-arg]
    for key, label in table.items():
        if key == value:
            return _(label)
    return clean_line(str(value))


def line_status(value: object) -> str:
    return _enum_label(LINE_STATUSES, value)


def tenure(value: object) -> str:
    return _enum_label(TENURES, value)


def reassigned(value: object) -> str:
    return _enum_label(REASSIGNED, value)


def identity_match(value: object) -> str:
    return _enum_label(IDENTITY_MATCHES, value)


def yes_no(value: bool | None) -> str:
    """``yes``, ``no``, or ``unknown`` — unknown is an answer too."""
    if value is None:
        return _("unknown")
    return _("yes") if value else _("no")


def view_title(title: str) -> str:
    """A desk view title in the current language (unknown titles stay as sent, cleaned)."""
    return _(clean_line(title))


def reveal_reason(value: str | None) -> str:
    """A reveal's reason code in the current language (an unknown code as sent, cleaned)."""
    if not value:
        return "—"
    try:
        return _(REVEAL_REASONS[RevealReason(value)])
    except ValueError:
        return clean_line(value)


def reveal_field(value: str | None, binding: str | None = None) -> str:
    """What was revealed: ``the number``, ``the number P-12``, ``the name``…"""
    try:
        field = RevealField(str(value))
    except ValueError:
        return clean_line(str(value))
    if field is RevealField.PHONE and binding:
        return _("the number {binding}", binding=clean_line(binding))
    return _(REVEAL_FIELDS[field])


def audit_action(value: str) -> str:
    try:
        return _(AUDIT_ACTIONS[AuditAction(value)])
    except (ValueError, KeyError):  # an action newer than this console's labels
        return clean_line(value)
