"""The domain: pydantic models and pure rules. No I/O; imports nothing else of ours."""

from linkdesk.domain.agents import Agent, AgentRef, Role
from linkdesk.domain.borrowers import Borrower, mask_id_number, mask_name
from linkdesk.domain.cases import (
    Case,
    CaseCategory,
    CaseCreate,
    CaseEvent,
    CasePatch,
    CaseStatus,
    CaseSummary,
    EventCreate,
    EventKind,
    Priority,
)
from linkdesk.domain.paging import Page
from linkdesk.domain.phones import (
    BindingStatus,
    InvalidPhoneNumber,
    MaskedPhone,
    PhoneBinding,
)
from linkdesk.domain.problems import FieldError, Problem
from linkdesk.domain.views import CaseQuery, CaseSort, CaseState, View

__all__ = [
    "Agent",
    "AgentRef",
    "BindingStatus",
    "Borrower",
    "Case",
    "CaseCategory",
    "CaseCreate",
    "CaseEvent",
    "CasePatch",
    "CaseQuery",
    "CaseSort",
    "CaseState",
    "CaseStatus",
    "CaseSummary",
    "EventCreate",
    "EventKind",
    "FieldError",
    "InvalidPhoneNumber",
    "MaskedPhone",
    "Page",
    "PhoneBinding",
    "Priority",
    "Problem",
    "Role",
    "View",
    "mask_id_number",
    "mask_name",
]
