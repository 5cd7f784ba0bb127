"""Alibaba Cloud 号码隐私保护 (Dyplsapi, API version 2017-05-25) as a masked-calling provider.

RPC style: ``Action`` and the parameters in the query string of a POST to
``https://dyplsapi.aliyuncs.com/``, signed with the V3 scheme (``ACS3-HMAC-SHA256``,
:mod:`linkdesk.intel.signing`, the same as Dytnsapi). Two operations:

* ``BindAxb`` — ``PoolKey``, ``PhoneNoA``, ``PhoneNoB`` (11 digits), ``Expiration``
  (``yyyy-MM-dd HH:mm:ss``, Beijing time, more than a minute ahead) → ``SecretBindDTO``
  ``{SecretNo, SubsId, Extension}``;
* ``UnbindSubscription`` — ``PoolKey``, ``SubsId``, ``SecretNo``.

Answers are ``{"Code": "OK" | error code, "Message", "RequestId", …}``. Credentials come
from the environment only and never appear in an error.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from linkdesk.calling.base import AxbBinding, CallingError, SubscriptionGone
from linkdesk.intel.signing import AliyunAccess, env_values, sign_request

API_VERSION = "2017-05-25"
DEFAULT_ENDPOINT = "https://dyplsapi.aliyuncs.com"
BEIJING = timezone(timedelta(hours=8))

ENV_ACCESS_KEY_ID = "LINKDESK_ALIYUN_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "LINKDESK_ALIYUN_ACCESS_KEY_SECRET"
ENV_POOL_KEY = "LINKDESK_ALIYUN_PLS_POOL_KEY"
ENV_ENDPOINT = "LINKDESK_ALIYUN_PLS_ENDPOINT"

# Error codes of Dyplsapi (its API metadata) → what to tell the agent.
ERRORS = {
    "isv.NO_AVAILABLE_NUMBER": "no privacy number is free in the pool; try again later or grow the pool",
    "isv.EXPIRE_DATE_ILLEGAL": "the expiry was refused (must be more than a minute ahead)",
    "isv.ILLEGAL_ARGUMENT": "the request was refused as invalid",
    "isv.MOBILE_NUMBER_ILLEGAL": "a number was refused as not a valid mobile number",
    "isv.BIND_CONFLICT": "these numbers are already bound to a privacy number",
    "isv.NO_USED_BY_OTHERS": "the privacy number is used by another business",
    "isv.VENDOR_BIND_FAILED": "the carrier failed to make the binding",
    "isv.FLOW_LIMIT": "rate limited by Alibaba Cloud; try again shortly",
    "isv.FORBIDDEN_ACTION": "the account may not do this",
    "isv.OUT_OF_SERVICE": "the service is suspended for this account",
    "isv.PRODUCT_UN_SUBSCRIPT": "the account has not subscribed to the privacy-number product",
    "isv.PRODUCT_UNSUBSCRIBE": "the account has not subscribed to the privacy-number product",
    "isv.PARTNER_NOT_EXIST": "unknown pool (check the pool key)",
    "isp.RAM_PERMISSION_DENY": "the access key lacks the RAM permission",
    "isp.SYSTEM_ERROR": "provider error; try again",
    "isp.UNKNOWN_ERR_CODE": "the carrier answered an unknown error",
    "isp.VENDOR_UNAVAILABLE": "the carrier is unavailable",
}
GONE = {"isv.NO_NOT_EXIST", "isv.SUBSCRIPTION_NOT_EXIST", "isv.SUBS_NOT_EXIST"}
"""Unbinding something the provider no longer has: already ended or expired."""
_CN_MOBILE = re.compile(r"\+86(1\d{10})")


class AliyunCallingSettings(AliyunAccess):
    pool_key: str
    endpoint: str = DEFAULT_ENDPOINT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AliyunCallingSettings:
        return cls(**env_values(
            os.environ if environ is None else environ,
            {"access_key_id": ENV_ACCESS_KEY_ID, "access_key_secret": ENV_ACCESS_KEY_SECRET, "pool_key": ENV_POOL_KEY},
            {"endpoint": ENV_ENDPOINT},
            "aliyun masked calling",
        ))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _nonce() -> str:
    return uuid.uuid4().hex


def national(e164: str) -> str:
    match = _CN_MOBILE.fullmatch(e164)
    if match is None:
        raise CallingError("aliyun", "only mainland China mobile numbers can be bound",
                           code="isv.MOBILE_NUMBER_ILLEGAL")
    return match.group(1)


def _printable(text: str, limit: int = 64) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "", text)[:limit] or "?"


class AliyunCallingProvider:
    name = "aliyun"

    def __init__(
        self,
        settings: AliyunCallingSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = _utcnow,
        nonce: Callable[[], str] = _nonce,
    ) -> None:
        self._settings = settings
        self._now = now
        self._nonce = nonce
        self._url = httpx.URL(settings.endpoint).copy_with(path="/", query=None)
        self._host = self._url.netloc.decode("ascii")
        self._client = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(settings.timeout),
            headers={"accept": "application/json"}, follow_redirects=False,
        )

    @classmethod
    def from_env(cls) -> AliyunCallingProvider:
        return cls(AliyunCallingSettings.from_env())

    def __repr__(self) -> str:
        return f"AliyunCallingProvider(endpoint={self._settings.endpoint!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def bind_axb(self, phone_a: str, phone_b: str, *, expires_at: datetime) -> AxbBinding:
        expiration = expires_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        body = await self._call("BindAxb", {
            "PoolKey": self._settings.pool_key,
            "PhoneNoA": national(phone_a),
            "PhoneNoB": national(phone_b),
            "Expiration": expiration,
        })
        dto = body.get("SecretBindDTO")
        secret = dto.get("SecretNo") if isinstance(dto, dict) else None
        subs = dto.get("SubsId") if isinstance(dto, dict) else None
        if not isinstance(secret, str | int) or not isinstance(subs, str | int):
            raise CallingError(self.name, "malformed answer (no SecretBindDTO)")
        digits = re.sub(r"\D", "", str(secret))
        if not digits:
            raise CallingError(self.name, "malformed answer (SecretNo)")
        secret_no = f"+86{digits[-11:]}" if len(digits) >= 11 else digits
        return AxbBinding(secret_no=secret_no, subscription_id=str(subs)[:128],
                          expires_at=expires_at.replace(microsecond=0))

    async def unbind(self, subscription_id: str, secret_no: str) -> None:
        digits = re.sub(r"\D", "", secret_no)
        await self._call("UnbindSubscription", {
            "PoolKey": self._settings.pool_key,
            "SubsId": subscription_id,
            "SecretNo": digits[-11:] if digits.startswith("86") and len(digits) == 13 else digits,
        })

    async def _call(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        signed = sign_request(
            access_key_id=self._settings.access_key_id,
            access_key_secret=self._settings.access_key_secret.get_secret_value(),
            method="POST", host=self._host, action=action, version=API_VERSION, params=params,
            date=self._now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), nonce=self._nonce(),
        )
        url = self._url.copy_with(query=signed.query.encode("ascii"))
        try:
            response = await self._client.post(url, headers=signed.headers)
        except httpx.TimeoutException:
            raise CallingError(self.name, f"{self._host} timed out") from None
        except httpx.TransportError as exc:
            raise CallingError(self.name, f"cannot reach {self._host} ({type(exc).__name__})") from None
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise CallingError(self.name, f"malformed answer (HTTP {response.status_code})")
        code = body.get("Code")
        if code == "OK":
            return body
        code = _printable(str(code)) if code else None
        if code in GONE:
            raise SubscriptionGone(self.name, "no such subscription (ended or expired)", code=code)
        if code in ERRORS:
            raise CallingError(self.name, ERRORS[code], code=code)
        if code and code.startswith(("InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden", "NoPermission")):
            raise CallingError(self.name, f"access key refused ({code})", code=code)
        raise CallingError(self.name, f"error {code or response.status_code}", code=code)
