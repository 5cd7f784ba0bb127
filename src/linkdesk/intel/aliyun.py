"""Alibaba Cloud 号码百科 (Dytnsapi, API version 2020-02-17) as an :class:`IntelProvider`.

One check is up to six RPC operations, run concurrently; each answers some fields of
the report. An operation that fails leaves its fields unknown and is named in
``report.unavailable``; when none answers, or the access key is refused, or the
service cannot be reached, the check raises :class:`IntelUnavailable`.

Numbers (and the name and ID number of a three-element check) are sent as SHA-256
hex digests (``Mask=SHA256``): every operation used here accepts them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from pydantic import Field, field_validator

from linkdesk.domain.intel import (
    Identity,
    IdentityMatch,
    IntelReport,
    IntelUnavailable,
    LineStatus,
    Reassigned,
    Tenure,
)
from linkdesk.intel.base import InvalidNumberForProvider
from linkdesk.intel.signing import AliyunAccess, env_values, sign_request

API_VERSION = "2020-02-17"
DEFAULT_ENDPOINT = "https://dytnsapi.aliyuncs.com"

ENV_ACCESS_KEY_ID = "LINKDESK_ALIYUN_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "LINKDESK_ALIYUN_ACCESS_KEY_SECRET"
ENV_AUTH_CODES = "LINKDESK_ALIYUN_AUTH_CODES"
ENV_ENDPOINT = "LINKDESK_ALIYUN_ENDPOINT"
ENV_TIMEOUT = "LINKDESK_ALIYUN_TIMEOUT"

# check name (as it appears in report.unavailable) → Dytnsapi action
ACTIONS: dict[str, str] = {
    "reassigned": "DescribePhoneTwiceTelVerify",
    "tenure": "DescribePhoneNumberOnlineTime",
    "line_status": "PhoneNumberStatusForReal",
    "virtual": "PhoneNumberStatusForVirtual",
    "carrier": "DescribePhoneNumberOperatorAttribute",
    "identity": "ThreeElementsVerification",
}
_CHECK_BY_KEY = {**{k.lower(): k for k in ACTIONS}, **{a.lower(): k for k, a in ACTIONS.items()}}
_CHECK_BY_KEY["status"] = "line_status"

REASSIGNED = {0: Reassigned.UNKNOWN, 1: Reassigned.YES, 2: Reassigned.NO,
              3: Reassigned.CANCELLED, 4: Reassigned.UNKNOWN}
TENURE = {-1: Tenure.UNKNOWN, 0: Tenure.UNKNOWN, 1: Tenure.UNDER_3M, 2: Tenure.M3_TO_6,
          3: Tenure.M6_TO_12, 4: Tenure.M12_TO_24, 5: Tenure.OVER_24M}
LINE_STATUS = {
    "NORMAL": LineStatus.NORMAL, "SHUTDOWN": LineStatus.SHUT_DOWN,
    "POWER_OFF": LineStatus.POWER_OFF, "SUSPECTED_POWER_OFF": LineStatus.POWER_OFF,
    "NOT_EXIST": LineStatus.EMPTY, "BUSY": LineStatus.BUSY, "DEFECT": LineStatus.ABNORMAL,
    "UNKNOWN": LineStatus.UNKNOWN,
}
IDENTITY = {1: IdentityMatch.MATCH, 0: IdentityMatch.MISMATCH, 2: IdentityMatch.NOT_FOUND}
CARRIERS = {
    "CMCC": "China Mobile", "CUCC": "China Unicom", "CTCC": "China Telecom",
    "CBN": "China Broadnet", "中国移动": "China Mobile", "中国联通": "China Unicom",
    "中国电信": "China Telecom", "中国广电": "China Broadnet",
}

# Code → why the operation gave no answer (its fields stay unknown).
OPERATION_ERRORS = {
    "OperatorLimit": "the carrier refuses queries on this number",
    "PortabilityNumberNotSupported": "portability not supported",
    "RequestNumberNotSupported": "number not supported (Broadnet or MVNO)",
    "AuthCodeNotExist": f"AuthCode not recognised (check {ENV_AUTH_CODES})",
    "CarrierIllegal": "carrier not supported",
    "CertCodeIllegal": "the ID number was rejected as illegal",
    "InvalidParameter": "the request was rejected as invalid",
}
INVALID_NUMBER = {"MobileNumberIllegal", "MobileNumberTypeNotMatch",
                  "MobileNumberTypeIllegal", "InvalidPhoneNumber.Check"}
NO_DATA = {"PhoneNumberNotfound"}
TRANSIENT = {"SystemError", "Unknown", "isp.UNKNOWN", "ServiceUnavailable", "InternalError"}
_AUTH_PREFIXES = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "IncompleteSignature",
                  "InvalidSecurityToken", "MissingSecurityToken", "Forbidden", "NoPermission",
                  "InvalidTimeStamp", "SignatureNonceUsed")
_CN_MOBILE = re.compile(r"\+86(1\d{10})")


class AliyunSettings(AliyunAccess):
    """Access key, one AuthCode per operation (issued when the console approves its
    label), endpoint. Operations without an AuthCode are not asked."""

    auth_codes: dict[str, str] = Field(default_factory=dict, repr=False)
    """Check name (``reassigned``, ``tenure``, ``line_status``, ``virtual``, ``carrier``,
    ``identity``) or action name → AuthCode."""
    endpoint: str = DEFAULT_ENDPOINT
    max_attempts: int = 3
    """Tries of an operation that answers SystemError/Unknown (the docs advise ≤ 3)."""
    frequency_backoff: float = 60.0
    """Seconds to wait after RequestFrequencyLimit (the carrier gives no figure)."""

    @field_validator("auth_codes", mode="before")
    @classmethod
    def _checks_by_name(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        codes = {}
        for key, code in value.items():
            check = _CHECK_BY_KEY.get(str(key).strip().lower())
            if check is None:
                raise ValueError(f"unknown operation {key!r}; use one of {', '.join(ACTIONS)}")
            codes[check] = str(code).strip()
        return codes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AliyunSettings:
        """Read ``LINKDESK_ALIYUN_*``; raise ``ValueError`` naming what is missing."""
        values: dict[str, Any] = env_values(
            os.environ if environ is None else environ,
            {"access_key_id": ENV_ACCESS_KEY_ID, "access_key_secret": ENV_ACCESS_KEY_SECRET,
             "auth_codes": ENV_AUTH_CODES},
            {"endpoint": ENV_ENDPOINT, "timeout": ENV_TIMEOUT},
            "aliyun",
        )
        values["auth_codes"] = parse_auth_codes(values["auth_codes"])
        return cls(**values)


def parse_auth_codes(text: str) -> dict[str, str]:
    """``{"tenure": "A1", …}`` (JSON) or ``tenure=A1,line_status=B2``."""
    text = text.strip()
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"{ENV_AUTH_CODES} is not valid JSON") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"{ENV_AUTH_CODES} must be a JSON object")
        return {str(k): str(v) for k, v in loaded.items()}
    codes = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, code = item.partition("=")
        if not sep or not key.strip() or not code.strip():
            raise ValueError(f"{ENV_AUTH_CODES}: expected operation=code, got {key.strip()!r}…")
        codes[key.strip()] = code.strip()
    return codes


class _OperationFailed(Exception):
    def __init__(
        self, reason: str, *, retry_after: float | None = None, transient: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.transient = transient


@dataclass
class _Answer:
    fields: dict[str, Any]
    carrier: str | None = None


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _nonce() -> str:
    return uuid.uuid4().hex


class AliyunProvider:
    """Dytnsapi client. ``transport`` lets tests answer with recorded responses;
    ``now``, ``nonce`` and ``sleep`` make signing and retries reproducible."""

    name = "aliyun"

    def __init__(
        self,
        settings: AliyunSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = _utcnow,
        nonce: Callable[[], str] = _nonce,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._now = now
        self._nonce = nonce
        self._sleep = sleep
        self._url = httpx.URL(settings.endpoint).copy_with(path="/", query=None)
        self._host = self._url.netloc.decode("ascii")
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(settings.timeout),
            headers={"accept": "application/json"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"AliyunProvider(endpoint={self._settings.endpoint!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def check(
        self, e164: str, *, reference_date: date, identity: Identity | None = None
    ) -> IntelReport:
        match = _CN_MOBILE.fullmatch(e164)
        if match is None:
            raise InvalidNumberForProvider("aliyun answers only for mainland China mobile numbers")
        number = sha256_hex(match.group(1))
        operations = self._operations(number, reference_date, identity)
        if not operations:
            raise IntelUnavailable(self.name, f"no operation has an AuthCode ({ENV_AUTH_CODES})")
        results = await asyncio.gather(
            *(self._run(check, params) for check, params in operations), return_exceptions=True
        )
        return self._report([check for check, _ in operations], results, reference_date, identity)

    def _operations(
        self, number: str, reference_date: date, identity: Identity | None
    ) -> list[tuple[str, dict[str, str]]]:
        extra: dict[str, dict[str, str]] = {
            # the date the user registered with us: recycled since then?
            "reassigned": {"StartTime": f"{reference_date.isoformat()} 00:00:00"},
        }
        if identity is not None:
            extra["identity"] = {
                "Name": sha256_hex(identity.name.strip()),
                "CertCode": sha256_hex(identity.id_number.strip().upper()),
            }
        operations = []
        for check in ACTIONS:
            code = self._settings.auth_codes.get(check)
            if not code or (check == "identity" and identity is None):
                continue
            params = {"AuthCode": code, "InputNumber": number, "Mask": "SHA256"}
            operations.append((check, params | extra.get(check, {})))
        return operations

    def _report(
        self,
        checks: list[str],
        results: list[Any],
        reference_date: date,
        identity: Identity | None,
    ) -> IntelReport:
        fields: dict[str, Any] = {}
        carriers: dict[str, str] = {}
        unavailable: list[str] = []
        retry_after: list[float] = []
        for check, result in zip(checks, results, strict=True):
            if isinstance(result, InvalidNumberForProvider | IntelUnavailable):
                raise result
            if isinstance(result, _OperationFailed):
                unavailable.append(f"{check}: {result.reason}")
                if result.retry_after is not None:
                    retry_after.append(result.retry_after)
            elif isinstance(result, _Answer):
                fields.update(result.fields)
                if result.carrier:
                    carriers[check] = result.carrier
            else:  # an exception nobody foresaw: this operation only
                unavailable.append(f"{check}: unexpected error ({type(result).__name__})")
        if len(unavailable) == len(checks):
            raise IntelUnavailable(
                self.name, "; ".join(unavailable), retry_after=max(retry_after, default=None)
            )
        # the operator attribute names MVNOs; the others only the basic carrier
        for check in ("carrier", "line_status", "reassigned", "tenure"):
            if check in carriers:
                fields["carrier"] = carriers[check]
                break
        if identity is not None:
            fields.setdefault("identity", IdentityMatch.UNKNOWN)
        return IntelReport(
            provider=self.name,
            checked_at=self._now(),
            reference_date=reference_date,
            unavailable=unavailable,
            **fields,
        )

    async def _run(self, check: str, params: dict[str, str]) -> _Answer:
        body = await self._call(ACTIONS[check], params)
        if body is None:
            return _Answer({})
        data = body.get("Data")
        if not isinstance(data, dict):
            raise _OperationFailed("malformed response (no Data)")
        try:
            return _PARSERS[check](data)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise _OperationFailed(f"malformed response ({exc})") from None

    async def _call(self, action: str, params: dict[str, str]) -> dict[str, Any] | None:
        """The body of an ``OK`` answer, ``None`` for "no data"; raises otherwise."""
        attempts = max(1, self._settings.max_attempts)
        for attempt in range(attempts):
            response = await self._post(action, params)
            body = _json_object(response)
            code = _code(body)
            if code == "OK":
                return body
            failure = self._classify(code, response)
            if failure is None:
                return None
            if not failure.transient or attempt == attempts - 1:
                raise failure
            await self._sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    def _classify(self, code: str | None, response: httpx.Response) -> _OperationFailed | None:
        """Map an answer that is not OK. Raises for whole-check failures, returns
        ``None`` for "no data", a transient failure for one worth retrying now."""
        status = response.status_code
        if code in INVALID_NUMBER:
            raise InvalidNumberForProvider(f"aliyun: {code}")
        if (code or "").startswith(_AUTH_PREFIXES) or (code is None and status in (401, 403)):
            why = _printable(code or str(status))
            raise IntelUnavailable(self.name, f"access key refused ({why})")
        if code in NO_DATA:
            return None
        if code == "RequestFrequencyLimit" or (code or "").startswith("Throttling") or (
            status == 429
        ):
            wait = _retry_after(response) or self._settings.frequency_backoff
            by = "the carrier" if code == "RequestFrequencyLimit" else "Alibaba Cloud"
            return _OperationFailed(f"rate limited by {by}, retry in {wait:.0f} s",
                                    retry_after=wait)
        if code in OPERATION_ERRORS:
            return _OperationFailed(OPERATION_ERRORS[code])
        if code in TRANSIENT or (code is None and status >= 500):
            return _OperationFailed(f"provider error ({code or status})", transient=True)
        if code is None:
            return _OperationFailed(f"malformed response (HTTP {status})")
        return _OperationFailed(f"error {_printable(code)}")

    async def _post(self, action: str, params: dict[str, str]) -> httpx.Response:
        signed = sign_request(
            access_key_id=self._settings.access_key_id,
            access_key_secret=self._settings.access_key_secret.get_secret_value(),
            method="POST",
            host=self._host,
            action=action,
            version=API_VERSION,
            params=params,
            date=self._now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            nonce=self._nonce(),
        )
        url = self._url.copy_with(query=signed.query.encode("ascii"))
        try:
            return await self._client.post(url, headers=signed.headers)
        except httpx.TimeoutException:
            raise IntelUnavailable(self.name, f"{self._host} timed out") from None
        except httpx.TransportError as exc:
            raise IntelUnavailable(
                self.name, f"cannot reach {self._host} ({type(exc).__name__})"
            ) from None


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _code(body: dict[str, Any] | None) -> str | None:
    code = body.get("Code") if body else None
    return code if isinstance(code, str) and code else None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


def _printable(text: str, limit: int = 64) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "", text)[:limit] or "?"


def _int(value: Any, name: str) -> int:
    """An enumerated answer: the docs give strings ("1"), some answers carry ints."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{name} is not a code")
    if isinstance(value, str) and not re.fullmatch(r"-?\d{1,3}", value.strip()):
        raise ValueError(f"{name} is not a code")
    return int(value)


def _lookup(table: Mapping[Any, Any], value: Any, name: str) -> Any:
    if value not in table:
        raise ValueError(f"unexpected {name}")
    return table[value]


def _bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError(f"{name} is not a boolean")


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:64]


def _carrier(value: Any) -> str | None:
    text = _text(value)
    return CARRIERS.get(text, text) if text else None


def _parse_reassigned(data: dict[str, Any]) -> _Answer:
    code = _int(data.get("VerifyResult"), "VerifyResult")
    return _Answer({"reassigned": _lookup(REASSIGNED, code, "VerifyResult")},
                   _carrier(data.get("Carrier")))


def _parse_tenure(data: dict[str, Any]) -> _Answer:
    code = _int(data.get("VerifyResult"), "VerifyResult")
    return _Answer({"tenure": _lookup(TENURE, code, "VerifyResult")},
                   _carrier(data.get("CarrierCode")))


def _parse_status(data: dict[str, Any]) -> _Answer:
    status = data.get("Status")
    if not isinstance(status, str):
        raise TypeError("Status is not a string")
    return _Answer({"line_status": _lookup(LINE_STATUS, status.upper(), "Status")},
                   _carrier(data.get("Carrier")))


def _parse_virtual(data: dict[str, Any]) -> _Answer:
    return _Answer({"virtual": _bool(data.get("IsPrivacyNumber"), "IsPrivacyNumber")})


def _parse_carrier(data: dict[str, Any]) -> _Answer:
    province, city = _text(data.get("Province")), _text(data.get("City"))
    region = " ".join(dict.fromkeys(p for p in (province, city) if p)) or None
    return _Answer(
        {"ported": _bool(data.get("IsNumberPortability"), "IsNumberPortability"),
         "region": region},
        _carrier(data.get("Carrier")) or _carrier(data.get("BasicCarrier")),
    )


def _parse_identity(data: dict[str, Any]) -> _Answer:
    code = _int(data.get("IsConsistent"), "IsConsistent")
    return _Answer({"identity": _lookup(IDENTITY, code, "IsConsistent")})


_PARSERS: dict[str, Callable[[dict[str, Any]], _Answer]] = {
    "reassigned": _parse_reassigned,
    "tenure": _parse_tenure,
    "line_status": _parse_status,
    "virtual": _parse_virtual,
    "carrier": _parse_carrier,
    "identity": _parse_identity,
}
