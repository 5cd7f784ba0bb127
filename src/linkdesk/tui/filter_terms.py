"""The inbox filter in the console: the language of :mod:`linkdesk.domain.filters`
(parsed here for the caret under a bad term; the desk applies it) and its completion.

Completion works on the word before the cursor: a key's beginning completes to the key
(``ca`` → ``cat:``), a value's beginning to the key's values (``cat:rec`` →
``cat:recycled_number``; after a comma, the next value of a list). Agent names come
from the desk, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.suggester import Suggester

from linkdesk.domain.cases import CaseCategory, CaseStatus, Priority
from linkdesk.domain.filters import (
    ALIASES,
    KEYS,
    SLA_VALUES,
    STATUS_GROUPS,
    FilterError,
    ParsedFilter,
    parse,
)
from linkdesk.i18n import _

TermError = FilterError
"""A term that does not parse (start, end, term, message); the name callers know."""

__all__ = ["FilterSuggester", "TermError", "complete", "error_message", "parse_filter"]


def parse_filter(value: str) -> ParsedFilter:
    """The filter and its errors; never raises."""
    return parse(value)


def error_message(error: FilterError) -> str:
    """The error in the console's language."""
    return _(error.template, **error.values)


def values_for(key: str, agents: Iterable[str] = ()) -> list[str]:
    """What may follow ``key:``, in the order they are offered."""
    key = ALIASES.get(key, key)
    if key == "status":
        return [str(s) for s in CaseStatus] + list(STATUS_GROUPS)
    if key == "cat":
        return [str(c) for c in CaseCategory]
    if key == "prio":
        return [str(p) for p in Priority]
    if key == "assignee":
        return ["me", "none", *agents]
    if key == "sla":
        return list(SLA_VALUES)
    return []


def complete(value: str, agents: Iterable[str] = ()) -> str | None:
    """``value`` with its last word completed, or None when there is nothing to offer."""
    if not value or value[-1].isspace():
        return None
    head, _sep, word = value.rpartition(" ")
    prefix = head + _sep
    negation = "-" if word.startswith("-") else ""
    body = word[len(negation):]
    key, colon, typed = body.partition(":")
    if not colon:
        if not body or not body.isalpha():
            return None
        found = next((k for k in KEYS if k.startswith(body.lower()) and k != body.lower()), None)
        return f"{prefix}{negation}{found}:" if found else None
    done, _comma, last = typed.rpartition(",")
    operator = ""
    if key.lower() in ("prio", "priority") and not done:
        operator = next((op for op in (">=", "<=", ">", "<") if last.startswith(op)), "")
        last = last[len(operator):]
    if not last:
        return None
    found = next(
        (v for v in values_for(key.lower(), agents) if v.startswith(last.lower()) and v != last.lower()), None
    )
    if found is None:
        return None
    kept = done + "," if _comma else ""
    return f"{prefix}{negation}{key}:{kept}{operator}{found}"


class FilterSuggester(Suggester):
    """Inline completion for the filter input (→ or tab accepts it)."""

    def __init__(self, agents: Callable[[], Iterable[str]]) -> None:
        # not cached: the agents arrive after the first keys
        super().__init__(use_cache=False, case_sensitive=True)
        self._agents = agents

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self._agents())
