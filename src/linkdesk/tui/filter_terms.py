"""The inbox filter's terms: ``risk:>=60`` mixed with free text.

Only the risk term exists so far (the full filter language is a later issue), so the
parser stays small: the filter is split on whitespace, a word that starts with
``risk`` followed by ``:``, ``>`` , ``<`` or ``=`` is a risk term, everything else is
free text for the desk's search. A risk term that does not parse is reported with
where it is, so the inbox can point at it.

Accepted: ``risk:>=60``, ``risk:60`` and ``risk>=60`` (all mean a score of 60 or more).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from linkdesk.i18n import _

RISK_MAX = 100

_WORD = re.compile(r"\S+")
_RISK_TERM = re.compile(r"risk(?=[:<>=])", re.IGNORECASE)
_RISK_VALUE = re.compile(r"risk(?::(?:>=)?|>=)(\d{1,3})", re.IGNORECASE)


@dataclass(frozen=True)
class TermError:
    """A term that does not parse: where it is in the filter (in characters) and why."""

    start: int
    end: int
    term: str
    message: str


@dataclass(frozen=True)
class FilterTerms:
    text: str
    """The free text, words separated by one space ("" when there is none)."""
    risk_min: int | None = None
    errors: list[TermError] = field(default_factory=list)


def parse_filter(value: str) -> FilterTerms:
    """Split ``value`` into free text and the terms the desk filters on."""
    words: list[str] = []
    risk_min: int | None = None
    errors: list[TermError] = []
    for match in _WORD.finditer(value):
        word = match.group()
        if not _RISK_TERM.match(word):
            words.append(word)
            continue
        parsed = _RISK_VALUE.fullmatch(word)
        if parsed is None:
            message = _("a risk term is risk:>=N with a score N from 0 to 100, e.g. risk:>=60")
        elif int(parsed.group(1)) > RISK_MAX:
            message = _("a risk score is from 0 to 100")
        elif risk_min is not None:
            message = _("only one risk term, please")
        else:
            risk_min = int(parsed.group(1))
            continue
        errors.append(TermError(match.start(), match.end(), word, message))
    return FilterTerms(" ".join(words), risk_min, errors)
