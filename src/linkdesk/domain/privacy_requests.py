"""Privacy requests of a data subject (PIPL arts. 44–47): access/copy, correction,
erasure, and the legal holds that block erasure. Pure models and rules."""

from __future__ import annotations

import enum
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from linkdesk.domain.phones import PhoneBinding
from linkdesk.domain.text import clean

EXPORT_SCHEMA = "linkdesk.borrower-export/1"
ERASED = "erased"
"""What an erased borrower's masked name, ID number and numbers read as."""
MIN_REASON = 4

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class InvalidIdNumber(ValueError):
    pass


def id_number_check(first17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise_id_number(value: str) -> str:
    """A resident ID number as stored: 18 characters, the last a check digit or ``X``
    (GB 11643-1999); raises :class:`InvalidIdNumber` naming what is wrong."""
    text = value.strip().upper()
    if len(text) != 18:
        raise InvalidIdNumber("must be 18 characters")
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X") or not text.isascii():
        raise InvalidIdNumber("must be 17 digits and a check digit (0-9 or X)")
    try:
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise InvalidIdNumber("the birth date (characters 7-14) is not a date") from None
    if id_number_check(text[:17]) != text[17]:
        raise InvalidIdNumber("the check digit does not match (GB 11643)")
    return text


def normalise_name(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("must not be empty")
    if len(text) > 64:
        raise ValueError("at most 64 characters")
    if clean(text) != text or "\n" in text or "\t" in text:
        raise ValueError("one line without control characters")
    return text


class LegalHold(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    borrower: str
    reason: str
    case: str | None = None
    placed_by: str
    placed_at: datetime
    lifted_by: str | None = None
    lifted_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.lifted_at is None


class LegalHoldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=MIN_REASON, max_length=2000)
    case: str | None = Field(default=None, max_length=32)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        text = clean(value).strip()
        if len(text) < MIN_REASON:
            raise ValueError(f"at least {MIN_REASON} characters")
        return text


class BorrowerDetail(BaseModel):
    """A borrower as the privacy screen shows one: masked, with holds and cases."""

    model_config = ConfigDict(frozen=True)

    ref: str
    name: str
    id_number: str | None = None
    version: int
    erased: bool = False
    erased_at: datetime | None = None
    bindings: list[PhoneBinding] = Field(default_factory=list)
    holds: list[LegalHold] = Field(default_factory=list)
    cases: list[str] = Field(default_factory=list)


class BorrowerCorrection(BaseModel):
    """PATCH /borrowers/{ref}: the fields to correct (at least one)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    id_number: str | None = Field(default=None, max_length=40)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else normalise_name(value)

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalise_id_number(value)
        except InvalidIdNumber as exc:
            raise ValueError(str(exc)) from None


class ErasureReason(enum.StrEnum):
    """Why personal data is deleted (PIPL art. 47)."""

    SUBJECT_REQUEST = "subject_request"
    PURPOSE_FULFILLED = "purpose_fulfilled"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    RETENTION_EXPIRED = "retention_expired"
    UNLAWFUL_PROCESSING = "unlawful_processing"


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ErasureReason
    note: str = Field(default="", max_length=2000)

    @field_validator("note")
    @classmethod
    def _note(cls, value: str) -> str:
        return clean(value).strip()


class Erasure(BaseModel):
    """What an erasure did."""

    borrower: str
    erased_at: datetime
    cases: list[str]
    bindings_ended: int
    audit_seq: int
