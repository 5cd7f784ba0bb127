"""What the desk knows of a case's numbers: the last intel and the risk it scored.

One :class:`BindingIntel` per number of a case (``GET``/``POST /cases/{ref}/intel``):
each of the borrower's bindings, newest first, or the case's own number when the case
has no borrower. Everything in it is masked or free of personal data.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from linkdesk.domain.intel import IntelReport
from linkdesk.domain.phones import BindingStatus, MaskedPhone
from linkdesk.domain.risk import RiskAssessment

CASE_NUMBER_REF = "case"
"""The ``phone.ref`` of a case's own number (a case without a borrower)."""


class BindingIntel(BaseModel):
    model_config = ConfigDict(frozen=True)

    binding: str | None
    """``P-12``, or None for the case's own number."""
    phone: MaskedPhone
    status: BindingStatus | None = None
    report: IntelReport | None = None
    """The last report a provider answered (kept when a later check could not be made)."""
    assessment: RiskAssessment | None = None
    """The risk scored from that report and the desk's own facts."""
    unavailable: str | None = None
    """Why the last check could not be made (``intel unavailable: aliyun: circuit open,
    retry in 60 s``); None when it was answered."""
    checked_at: datetime | None = None
    """When the number was last checked (answered or not)."""


class BindingIntelList(BaseModel):
    items: list[BindingIntel]
