"""Public references: ``LD-000123`` for cases, ``B-000042`` for borrowers."""

from __future__ import annotations

import re

CASE_PREFIX = "LD"
BORROWER_PREFIX = "B"
_CASE_REF = re.compile(r"^\s*(?:LD-?)?0*(\d{1,12})\s*$", re.IGNORECASE)
_BORROWER_REF = re.compile(r"^\s*B-?0*(\d{1,12})\s*$", re.IGNORECASE)


class InvalidRef(ValueError):
    """A reference that does not name a case or borrower."""


def case_ref(case_id: int) -> str:
    return f"{CASE_PREFIX}-{case_id:06d}"


def parse_case_ref(ref: str) -> int:
    """``LD-000123``, ``ld123`` or ``123`` → 123."""
    match = _CASE_REF.match(ref)
    if not match or int(match.group(1)) == 0:
        raise InvalidRef(f"not a case reference: {ref!r}")
    return int(match.group(1))


def borrower_ref(borrower_id: int) -> str:
    return f"{BORROWER_PREFIX}-{borrower_id:06d}"


def parse_borrower_ref(ref: str) -> int:
    match = _BORROWER_REF.match(ref)
    if not match or int(match.group(1)) == 0:
        raise InvalidRef(f"not a borrower reference: {ref!r}")
    return int(match.group(1))
