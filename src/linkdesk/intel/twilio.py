"""Twilio Lookup v2 as an :class:`IntelProvider`.

One ``GET /v2/PhoneNumbers/{number}?Fields=…`` asks every data package at once; each
package answers some fields of the report, or carries its own ``error_code`` (not
approved for the account, country not covered…): then its fields stay unknown and it is
named in ``report.unavailable``. HTTP basic auth, with an API key (preferred) or the
account SID and auth token.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator

from linkdesk.domain.intel import (
    Identity,
    IdentityMatch,
    IntelReport,
    IntelUnavailable,
    LineStatus,
    Reassigned,
)
from linkdesk.intel.base import InvalidNumberForProvider

DEFAULT_BASE_URL = "https://lookups.twilio.com"

ENV_ACCOUNT_SID = "LINKDESK_TWILIO_ACCOUNT_SID"
ENV_AUTH_TOKEN = "LINKDESK_TWILIO_AUTH_TOKEN"
ENV_API_KEY_SID = "LINKDESK_TWILIO_API_KEY_SID"
ENV_API_KEY_SECRET = "LINKDESK_TWILIO_API_KEY_SECRET"
ENV_BASE_URL = "LINKDESK_TWILIO_BASE_URL"
ENV_PACKAGES = "LINKDESK_TWILIO_PACKAGES"
ENV_TIMEOUT = "LINKDESK_TWILIO_TIMEOUT"

# Lookup data package → the check named in report.unavailable when it fails
PACKAGES: dict[str, str] = {
    "line_type_intelligence": "virtual",
    "line_status": "line_status",
    "sim_swap": "recent_port_or_swap",
    "reassigned_number": "reassigned",
    "identity_match": "identity",
}

LINE_TYPES = {"landline", "mobile", "fixedVoip", "nonFixedVoip", "personal", "tollFree",
              "premium", "sharedCost", "uan", "voicemail", "pager"}
VIRTUAL_LINE_TYPES = {"nonFixedVoip"}
LINE_STATUS = {"active": LineStatus.NORMAL, "reachable": LineStatus.NORMAL,
               "unreachable": LineStatus.POWER_OFF, "inactive": LineStatus.EMPTY,
               "unknown": LineStatus.UNKNOWN}
REASSIGNED = {"yes": Reassigned.YES, "no": Reassigned.NO,
              "no_data_available": Reassigned.UNKNOWN, "unknown": Reassigned.UNKNOWN}
MATCHED = {"exact_match", "high_partial_match"}
INCONCLUSIVE = {"partial_match"}
NOT_MATCHED = {"no_match"}
NO_DATA = {"no_data_available"}

ERRORS = {
    20003: "authentication failed",
    20404: "number not found",
    20429: "too many requests",
    60600: "unprovisioned or out of coverage",
    60601: "Lookup authorization required",
    60606: "package not enabled for the account",
    60607: "country not supported",
    60608: "provider error",
    60612: "not a mobile number",
}
_E164 = re.compile(r"\+[1-9]\d{6,14}")


class TwilioSettings(BaseModel):
    """Either an API key (SID + secret, preferred) or the account SID + auth token."""

    model_config = ConfigDict(frozen=True)

    account_sid: str | None = None
    auth_token: SecretStr | None = None
    api_key_sid: str | None = None
    api_key_secret: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    packages: tuple[str, ...] = tuple(PACKAGES)
    """The packages this account may call (drop those without carrier approval)."""
    timeout: float = 5.0
    throttle_backoff: float = 30.0
    """Seconds to wait after a 429 that carries no ``Retry-After``."""

    @field_validator("packages")
    @classmethod
    def _known_packages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [p for p in value if p not in PACKAGES]
        if unknown or not value:
            raise ValueError(f"packages must be among {', '.join(PACKAGES)}")
        return value

    @model_validator(mode="after")
    def _one_credential(self) -> TwilioSettings:
        if not (self.api_key_sid and self.api_key_secret) and not (
            self.account_sid and self.auth_token
        ):
            raise ValueError("twilio needs an API key SID + secret or an account SID + token")
        return self

    def auth(self) -> httpx.BasicAuth:
        if self.api_key_sid and self.api_key_secret:
            return httpx.BasicAuth(self.api_key_sid, self.api_key_secret.get_secret_value())
        assert self.account_sid and self.auth_token
        return httpx.BasicAuth(self.account_sid, self.auth_token.get_secret_value())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TwilioSettings:
        """Read ``LINKDESK_TWILIO_*``; raise ``ValueError`` naming what is missing."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(name, "").strip() or None

        key_sid, key_secret = get(ENV_API_KEY_SID), get(ENV_API_KEY_SECRET)
        sid, token = get(ENV_ACCOUNT_SID), get(ENV_AUTH_TOKEN)
        if not (key_sid and key_secret) and not (sid and token):
            raise ValueError(
                f"twilio is not configured: set {ENV_ACCOUNT_SID} and {ENV_AUTH_TOKEN}"
                f" (or {ENV_API_KEY_SID} and {ENV_API_KEY_SECRET})"
            )
        values: dict[str, Any] = {
            "account_sid": sid,
            "auth_token": SecretStr(token) if token else None,
            "api_key_sid": key_sid,
            "api_key_secret": SecretStr(key_secret) if key_secret else None,
        }
        if get(ENV_BASE_URL):
            values["base_url"] = get(ENV_BASE_URL)
        if get(ENV_PACKAGES):
            values["packages"] = tuple(p.strip() for p in env[ENV_PACKAGES].split(",") if p.strip())
        if get(ENV_TIMEOUT):
            values["timeout"] = env[ENV_TIMEOUT]
        return cls(**values)


class _PackageFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TwilioProvider:
    name = "twilio"

    def __init__(
        self,
        settings: TwilioSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._settings = settings
        self._now = now
        self._client = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            transport=transport,
            auth=settings.auth(),
            timeout=httpx.Timeout(settings.timeout),
            headers={"accept": "application/json"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"TwilioProvider(base_url={self._settings.base_url!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def check(
        self, e164: str, *, reference_date: date, identity: Identity | None = None
    ) -> IntelReport:
        if not _E164.fullmatch(e164):
            raise InvalidNumberForProvider("twilio: not an E.164 number")
        packages = [p for p in self._settings.packages
                    if p != "identity_match" or identity is not None]
        params = {"Fields": ",".join(packages)}
        if "reassigned_number" in packages:
            params["LastVerifiedDate"] = reference_date.strftime("%Y%m%d")
        sent_names: list[str] = []
        if identity is not None and "identity_match" in packages:
            params |= _identity_params(identity)
            sent_names = [f"{k.removesuffix('Name').lower()}_name_match"
                          for k in ("FirstName", "LastName") if k in params]
            sent_names.append("national_id_match")
        body = await self._get(e164, params)
        if body.get("valid") is False:
            errors = body.get("validation_errors")
            why = ", ".join(e for e in errors if isinstance(e, str) and e.isupper()) if (
                isinstance(errors, list)) else ""
            raise InvalidNumberForProvider(f"twilio: invalid number ({why or 'no reason given'})")

        fields: dict[str, Any] = {}
        unavailable: list[str] = []
        for package in packages:
            try:
                obj = _package(body, package)
                fields |= _PARSERS[package](obj, sent_names)
            except _PackageFailed as exc:
                unavailable.append(f"{PACKAGES[package]}: {exc.reason}")
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                unavailable.append(f"{PACKAGES[package]}: malformed response ({exc})")
        if len(unavailable) == len(packages):
            raise IntelUnavailable(self.name, "; ".join(unavailable))
        if not fields.get("carrier") and isinstance(body.get("sim_swap"), dict):
            fields["carrier"] = _text(body["sim_swap"].get("carrier_name"))
        if identity is not None:
            fields.setdefault("identity", IdentityMatch.UNKNOWN)
        return IntelReport(
            provider=self.name,
            checked_at=self._now(),
            reference_date=reference_date,
            region=_text(body.get("country_code")),
            unavailable=unavailable,
            **fields,
        )

    async def _get(self, e164: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self._client.get(
                f"/v2/PhoneNumbers/{quote(e164, safe='')}", params=params
            )
        except httpx.TimeoutException:
            raise IntelUnavailable(self.name, "Lookup timed out") from None
        except httpx.TransportError as exc:
            why = type(exc).__name__
            raise IntelUnavailable(self.name, f"cannot reach Lookup ({why})") from None
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        status = response.status_code
        if status == 200:
            if not isinstance(body, dict):
                raise IntelUnavailable(self.name, "malformed response (not a JSON object)")
            return body
        code = body.get("code") if isinstance(body, dict) else None
        what = _describe(code if isinstance(code, int) else None, fallback=f"HTTP {status}")
        if status == 404:
            raise InvalidNumberForProvider(f"twilio: {what}")
        if status == 429:
            wait = _retry_after(response) or self._settings.throttle_backoff
            raise IntelUnavailable(
                self.name, f"{what}, retry in {wait:.0f} s", retry_after=wait
            )
        if status in (401, 403):
            raise IntelUnavailable(self.name, f"credentials refused: {what}")
        raise IntelUnavailable(self.name, f"request failed: {what}")


def _identity_params(identity: Identity) -> dict[str, str]:
    """Twilio wants first and last names; a one-word (e.g. Chinese) name goes as the
    last name."""
    parts = identity.name.split()
    params = {"LastName": parts[-1]} if parts else {}
    if len(parts) > 1:
        params["FirstName"] = " ".join(parts[:-1])
    params["NationalId"] = identity.id_number.strip()
    return params


def _describe(code: int | None, *, fallback: str) -> str:
    if code is None:
        return fallback
    return f"{ERRORS.get(code, 'error')} ({code})"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:64]


def _package(body: dict[str, Any], package: str) -> dict[str, Any]:
    obj = body.get(package)
    if obj is None:
        raise _PackageFailed("not returned")
    if not isinstance(obj, dict):
        raise _PackageFailed("malformed response")
    code = obj.get("error_code")
    if code not in (None, "", 0):
        number = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
        raise _PackageFailed(_describe(number, fallback="error"))
    return obj


def _lookup(table: Mapping[str, Any], value: Any, name: str) -> Any:
    if not isinstance(value, str):
        raise TypeError(f"{name} is not a string")
    if value not in table:
        raise ValueError(f"unexpected {name}")
    return table[value]


def _line_type(obj: dict[str, Any], _: list[str]) -> dict[str, Any]:
    """``nonFixedVoip`` is virtual; another known type is not; a type we do not know
    (the list grows) says nothing either way."""
    kind = obj.get("type")
    if kind is not None and not isinstance(kind, str):
        raise TypeError("type is not a string")
    virtual = kind in VIRTUAL_LINE_TYPES if kind in LINE_TYPES else None
    return {"virtual": virtual, "carrier": _text(obj.get("carrier_name"))}


def _line_status(obj: dict[str, Any], _: list[str]) -> dict[str, Any]:
    return {"line_status": _lookup(LINE_STATUS, obj.get("status"), "status")}


def _sim_swap(obj: dict[str, Any], _: list[str]) -> dict[str, Any]:
    last = obj.get("last_sim_swap")
    if last is None:
        return {}
    if not isinstance(last, dict):
        raise TypeError("last_sim_swap is not an object")
    swapped = last.get("swapped_in_period")
    if swapped is not None and not isinstance(swapped, bool):
        raise TypeError("swapped_in_period is not a boolean")
    return {"recent_port_or_swap": swapped}


def _reassigned(obj: dict[str, Any], _: list[str]) -> dict[str, Any]:
    return {"reassigned": _lookup(REASSIGNED, obj.get("is_number_reassigned"),
                                  "is_number_reassigned")}


def _identity(obj: dict[str, Any], sent: list[str]) -> dict[str, Any]:
    """Only the fields we sent count: any ``no_match`` is a mismatch, all matched a
    match, all without data "not found"; anything else (partial) stays unknown."""
    values = [obj.get(name) for name in sent]
    known = MATCHED | INCONCLUSIVE | NOT_MATCHED | NO_DATA
    for value in values:
        if value is not None and value not in known:
            raise ValueError("unexpected match value")
    answered = [v for v in values if v is not None]
    if not answered:
        result = IdentityMatch.UNKNOWN
    elif any(v in NOT_MATCHED for v in answered):
        result = IdentityMatch.MISMATCH
    elif all(v in MATCHED for v in answered):
        result = IdentityMatch.MATCH
    elif all(v in NO_DATA for v in answered):
        result = IdentityMatch.NOT_FOUND
    else:
        result = IdentityMatch.UNKNOWN
    return {"identity": result}


_PARSERS: dict[str, Callable[[dict[str, Any], list[str]], dict[str, Any]]] = {
    "line_type_intelligence": _line_type,
    "line_status": _line_status,
    "sim_swap": _sim_swap,
    "reassigned_number": _reassigned,
    "identity_match": _identity,
}
