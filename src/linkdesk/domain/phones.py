"""Phone numbers: parsing, validation and masking (mainland China by default).

A full number exists only inside the server, on its way to or from encryption. What
leaves the server is a :class:`MaskedPhone`: ``138****1234`` plus an opaque ref.
"""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict

DEFAULT_REGION = "CN"

class InvalidPhoneNumber(ValueError):
    """The input is not a valid mobile number; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid phone number: {reason}")
        self.reason = reason


class BindingStatus(enum.StrEnum):
    ACTIVE = "active"
    UNBOUND = "unbound"
    REASSIGNED = "reassigned"
    SUSPENDED = "suspended"


class MaskedPhone(BaseModel):
    """What the console may know of a number: never the full digits."""

    model_config = ConfigDict(frozen=True)

    ref: str
    masked: str
    carrier: str | None = None
    region: str | None = None


class PhoneBinding(BaseModel):
    """A borrower ↔ number link over a time interval."""

    model_config = ConfigDict(frozen=True)

    ref: str
    phone: MaskedPhone
    status: BindingStatus
    bound_at: datetime
    unbound_at: datetime | None = None


def normalise(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return the E.164 form of a mobile number or raise :class:`InvalidPhoneNumber`."""
    # imported here: the console holds these models but never parses a number
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberType

    parse_reasons = {
        NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        NumberParseException.NOT_A_NUMBER: "not a phone number",
        NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        NumberParseException.TOO_SHORT_NSN: "too short",
        NumberParseException.TOO_LONG: "too long",
    }
    possible_reasons = {
        phonenumbers.ValidationResult.TOO_SHORT: "too short",
        phonenumbers.ValidationResult.TOO_LONG: "too long",
        phonenumbers.ValidationResult.INVALID_LENGTH: "wrong number of digits",
        phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    }
    mobile_types = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("empty")
    if len(text) > 32:
        raise InvalidPhoneNumber("too long")
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidPhoneNumber(parse_reasons.get(exc.error_type, "not a phone number")) from None
    nsn = phonenumbers.national_significant_number(number)
    if number.country_code == 86 and nsn[:1] == "1" and nsn[:2] != "10" and len(nsn) != 11:
        raise InvalidPhoneNumber(f"a mainland mobile number has 11 digits, not {len(nsn)}")
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible not in (
        phonenumbers.ValidationResult.IS_POSSIBLE,
        phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    ):
        raise InvalidPhoneNumber(possible_reasons.get(possible, "not a possible number"))
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("not an assigned number range")
    if phonenumbers.number_type(number) not in mobile_types:
        raise InvalidPhoneNumber("not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """``+8613812341234`` → ``13812341234``."""
    import phonenumbers

    number = phonenumbers.parse(e164, None)
    return phonenumbers.national_significant_number(number)


def mask(e164: str) -> str:
    """First three and last four digits of the national number: ``138****1234``."""
    digits = national_digits(e164)
    if len(digits) <= 7:
        return "*" * (len(digits) - 2) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def last_four(e164: str) -> str:
    return national_digits(e164)[-4:]


def describe(e164: str) -> tuple[str | None, str | None]:
    """Carrier and region of a number, from the number plan (no network)."""
    import phonenumbers
    from phonenumbers import carrier, geocoder  # loads prefix data on first use

    number = phonenumbers.parse(e164, None)
    name = carrier.name_for_number(number, "en") or None
    region = geocoder.description_for_number(number, "en") or None
    return name, region
