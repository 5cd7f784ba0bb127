"""The one interface every phone-intelligence provider implements."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from linkdesk.domain.intel import Identity, IntelReport


class InvalidNumberForProvider(ValueError):
    """The provider says the number itself is invalid (a validation error, not an outage)."""


class IntelProvider(Protocol):
    """Answers, for a number and a reference date, everything it can; what it cannot
    answer is ``unknown`` in the report (and named in ``unavailable`` when a check
    failed rather than had no data). Raises
    :class:`linkdesk.domain.intel.IntelUnavailable` when it cannot answer at all, and
    :class:`InvalidNumberForProvider` for a number it rejects."""

    name: str

    async def check(
        self, e164: str, *, reference_date: date, identity: Identity | None = None
    ) -> IntelReport: ...

    async def aclose(self) -> None: ...
