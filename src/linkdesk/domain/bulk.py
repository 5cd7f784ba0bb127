"""Bulk changes: one action on many cases at once, and the undo of the last one.

``POST /cases/bulk`` takes a :class:`BulkRequest` and answers a :class:`BulkChange`
with one :class:`BulkCaseResult` per case; ``POST /bulk-changes/{id}/undo`` answers an
:class:`UndoResult`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from linkdesk.domain.cases import CaseStatus

MAX_REFS = 500
"""The most cases one bulk request may name."""


class BulkAction(enum.StrEnum):
    ASSIGN = "assign"
    """``value``: an agent name, ``me``, or null to unassign."""
    STATUS = "status"
    """``value``: the new status; moves outside the workflow are refused per case."""
    TAG = "tag"
    """``value``: the tag to add."""
    UNTAG = "untag"
    """``value``: the tag to remove."""
    CLOSE = "close"
    """No value: open cases are resolved then closed, resolved ones closed."""


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refs: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]] = Field(
        min_length=1, max_length=MAX_REFS, description="Case refs (LD-000123), 1 to 500"
    )
    action: BulkAction
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None


def value_problem(action: BulkAction, value: str | None) -> str | None:
    """What is wrong with ``value`` for ``action`` (None when it fits): the desk answers
    it as a 422 on ``value`` before changing anything."""
    if action in (BulkAction.TAG, BulkAction.UNTAG):
        if value is None:
            return "name the tag"
        if len(value) > 40:
            return "a tag has at most 40 characters"
    elif action is BulkAction.STATUS:
        if value not in {str(status) for status in CaseStatus}:
            return f"one of {', '.join(CaseStatus)}"
    elif action is BulkAction.CLOSE and value is not None:
        return "close takes no value"
    return None


class BulkOutcome(enum.StrEnum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    """Already as asked (e.g. the tag was there): nothing written."""
    REFUSED = "refused"
    """Not changed; ``problem`` and ``reason`` say why (the others still are)."""


class BulkCaseResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: str
    outcome: BulkOutcome
    version: int | None = None
    """The case's version after the request (absent for a case that does not exist)."""
    problem: str | None = None
    """For a refusal: the problem type slug, e.g. ``invalid-transition``, ``case-closed``."""
    reason: str | None = None


class BulkChange(BaseModel):
    """The answer to a bulk request. ``id`` is null when nothing changed (nothing to
    undo)."""

    model_config = ConfigDict(frozen=True)

    id: int | None
    action: BulkAction
    value: str | None = None
    created_at: datetime
    results: list[BulkCaseResult]

    def count(self, outcome: BulkOutcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)


class UndoOutcome(enum.StrEnum):
    RESTORED = "restored"
    SKIPPED = "skipped"
    """Changed since the bulk change: left as it is."""


class UndoCaseResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: str
    outcome: UndoOutcome
    version: int
    reason: str | None = None


class UndoResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    undone_at: datetime
    results: list[UndoCaseResult]

    def count(self, outcome: UndoOutcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)


def tags_after(action: BulkAction, tags: list[str], tag: str) -> list[str]:
    """The tag list after adding or removing ``tag`` (order kept, no duplicates)."""
    if action is BulkAction.TAG:
        return tags if tag in tags else [*tags, tag]
    return [existing for existing in tags if existing != tag]
