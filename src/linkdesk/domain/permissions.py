"""Who may do what: one table decides every action of the desk.

The API enforces it (a refused action is a 403 naming the permission); the console
asks the same table only to hide what the API would refuse anyway.
"""

from __future__ import annotations

import enum

from linkdesk.domain.agents import Agent, Role


class Permission(enum.StrEnum):
    CASES_READ = "cases.read"
    """List, search and read cases, their timelines and the views."""
    CASES_CREATE = "cases.create"
    CASES_UPDATE = "cases.update"
    """Status, priority, subject, assignee."""
    CASES_COMMENT = "cases.comment"
    """Add comments and internal notes to a timeline."""
    INTEL_CHECK = "intel.check"
    """Ask the phone-intelligence provider about a case's numbers now (and re-score them)."""
    DNC_DELETE = "dnc.delete"
    """Take a number off the do-not-contact list."""
    REVEAL_PHONE = "reveal.phone"
    REVEAL_NAME = "reveal.name"
    REVEAL_ID_NUMBER = "reveal.id_number"
    AGENTS_READ = "agents.read"
    """The names and roles of the desk's agents (to assign work)."""
    AGENTS_MANAGE = "agents.manage"
    """Add agents, issue tokens, change roles, disable and enable."""
    AUDIT_READ = "audit.read"
    """Read and verify the audit chain."""
    DESK_SETTINGS = "desk.settings"
    """Change the desk's settings (reveal limits and the like)."""
    CONTACT_LOG = "contact.log"
    """Record contact with a borrower (call, SMS, app message) after the compliance check."""
    CONTACT_CALL = "contact.call"
    """Ask for a masked (privacy) number to call a borrower without seeing theirs."""
    REBIND_START = "rebind.start"
    """Start a rebind and record its verification factors."""
    REBIND_APPROVE = "rebind.approve"
    """Approve someone else's rebind that policy sends to a supervisor (four eyes)."""
    PRIVACY_EXPORT = "privacy.export"
    """Export everything the desk holds about a borrower, decrypted, for the data subject."""
    PRIVACY_CORRECT = "privacy.correct"
    """Correct a borrower's personal data (before and after go to the timeline, sealed)."""
    PRIVACY_DELETE = "privacy.delete"
    """Erase a borrower by destroying their data key (crypto-shredding)."""
    LEGAL_HOLD = "legal_hold.manage"
    """Place and lift legal holds, which block deletion."""


P = Permission

_WORK = {P.CASES_READ, P.CASES_CREATE, P.CASES_UPDATE, P.CASES_COMMENT, P.AGENTS_READ, P.INTEL_CHECK}
_CONTACT = {P.CONTACT_LOG, P.CONTACT_CALL, P.REBIND_START}
"""Talking to borrowers and changing their numbers: the roles that serve them."""

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Front-line agents talk to borrowers: the number and the name, never the ID number
    # (they verify an ID by asking for it, not by reading it).
    Role.AGENT: frozenset(_WORK | _CONTACT | {P.REVEAL_PHONE, P.REVEAL_NAME}),
    # Taking a number off the do-not-contact list may reach a stranger again: supervisors,
    # compliance and administrators only.
    # Supervisors approve the rebinds policy sends them and correct records borrowers
    # dispute.
    Role.SUPERVISOR: frozenset(
        _WORK | _CONTACT
        | {P.REVEAL_PHONE, P.REVEAL_NAME, P.REVEAL_ID_NUMBER, P.DNC_DELETE, P.REBIND_APPROVE, P.PRIVACY_CORRECT}
    ),
    # Risk analysts work on signals and scores: they need no one's identity.
    Role.RISK_ANALYST: frozenset(_WORK),
    # Compliance answers privacy requests (export, correction, deletion) and holds data
    # for litigation; it does not contact borrowers.
    Role.COMPLIANCE: frozenset(
        _WORK
        | {P.REVEAL_PHONE, P.REVEAL_NAME, P.REVEAL_ID_NUMBER, P.AUDIT_READ, P.DNC_DELETE}
        | {P.PRIVACY_EXPORT, P.PRIVACY_CORRECT, P.PRIVACY_DELETE, P.LEGAL_HOLD}
    ),
    Role.ADMIN: frozenset(Permission),
}


def permissions_of(role: Role | str) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[Role(role)]


def can(role: Role | str, permission: Permission | str) -> bool:
    return Permission(permission) in ROLE_PERMISSIONS[Role(role)]


def roles_with(permission: Permission | str) -> list[Role]:
    """The roles that hold ``permission``, for messages ("supervisor or compliance may")."""
    return [role for role in Role if Permission(permission) in ROLE_PERMISSIONS[role]]


class Me(Agent):
    """The calling agent and what their role lets them do (the console hides the rest)."""

    permissions: list[Permission]


def me(agent: Agent) -> Me:
    return Me(**agent.model_dump(), permissions=sorted(permissions_of(agent.role)))
