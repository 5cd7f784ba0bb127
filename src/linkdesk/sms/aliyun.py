"""Alibaba Cloud SMS (Dysmsapi ``SendSms``, API version 2017-05-25), signed with ACS3
(:mod:`linkdesk.intel.signing`).

Mainland SMS is sent from an approved *template* under an approved *sign name*: the
desk's text is not sent as such, only the template's parameters (``{"code": "123456"}``).
Configuration, from the environment:

* ``LINKDESK_ALIYUN_ACCESS_KEY_ID`` / ``LINKDESK_ALIYUN_ACCESS_KEY_SECRET`` (shared with
  the intel adapter);
* ``LINKDESK_ALIYUN_SMS_SIGN_NAME`` (签名) and ``LINKDESK_ALIYUN_SMS_TEMPLATE`` (模板
  code, e.g. ``SMS_123456789``, whose variable is ``${code}``);
* ``LINKDESK_ALIYUN_SMS_ENDPOINT`` (default ``https://dysmsapi.aliyuncs.com``).

It never writes the sandbox outbox, and never puts the number in an error's text.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from linkdesk.intel.signing import sign_request
from linkdesk.sms.base import SmsContext, SmsReceipt, SmsUnavailable

NAME = "aliyun"
API_VERSION = "2017-05-25"
ACTION = "SendSms"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"
ENV_ACCESS_KEY_ID = "LINKDESK_ALIYUN_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "LINKDESK_ALIYUN_ACCESS_KEY_SECRET"
ENV_SIGN_NAME = "LINKDESK_ALIYUN_SMS_SIGN_NAME"
ENV_TEMPLATE = "LINKDESK_ALIYUN_SMS_TEMPLATE"
ENV_ENDPOINT = "LINKDESK_ALIYUN_SMS_ENDPOINT"
_CN_MOBILE = re.compile(r"\+86(1\d{10})")
_CODE_SHAPE = re.compile(r"[A-Za-z0-9_.\-]{1,80}")
ERRORS = {
    "isv.MOBILE_NUMBER_ILLEGAL": "the number is not valid for SMS",
    "isv.BUSINESS_LIMIT_CONTROL": "the carrier's sending limit for this number was reached",
    "isv.DAY_LIMIT_CONTROL": "the day's sending limit was reached",
    "isv.AMOUNT_NOT_ENOUGH": "the account balance is too low",
    "isv.SMS_SIGNATURE_ILLEGAL": "the sign name is not approved",
    "isv.SMS_TEMPLATE_ILLEGAL": "the template is not approved",
    "isv.TEMPLATE_MISSING_PARAMETERS": "the template's parameters are missing",
    "isp.SYSTEM_ERROR": "Alibaba Cloud had an internal error",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def recipient(e164: str) -> str:
    """``PhoneNumbers``: 11 digits for mainland numbers, ``00`` + the E.164 digits else."""
    match = _CN_MOBILE.fullmatch(e164)
    return match.group(1) if match else "00" + e164.lstrip("+")


class AliyunSms:
    name = NAME

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template: str,
        endpoint: str = DEFAULT_ENDPOINT,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = _utcnow,
        nonce: Callable[[], str] = lambda: uuid.uuid4().hex,
        timeout: float = 5.0,
    ) -> None:
        self._key_id = access_key_id
        self._secret = access_key_secret
        self._sign_name = sign_name
        self._template = template
        self._url = httpx.URL(endpoint).copy_with(path="/", query=None)
        self._host = self._url.netloc.decode("ascii")
        self._now = now
        self._nonce = nonce
        self._client = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout),
                                         headers={"accept": "application/json"}, follow_redirects=False)

    def __repr__(self) -> str:
        return f"AliyunSms(endpoint={str(self._url)!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> AliyunSms:
        """Raise ``ValueError`` naming the variables that are missing."""
        env = os.environ if environ is None else environ
        required = (ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SIGN_NAME, ENV_TEMPLATE)
        missing = [name for name in required if not env.get(name, "").strip()]
        if missing:
            raise ValueError(f"aliyun SMS is not configured: set {', '.join(missing)}")
        return cls(
            access_key_id=env[ENV_ACCESS_KEY_ID].strip(), access_key_secret=env[ENV_ACCESS_KEY_SECRET].strip(),
            sign_name=env[ENV_SIGN_NAME].strip(), template=env[ENV_TEMPLATE].strip(),
            endpoint=env.get(ENV_ENDPOINT, "").strip() or DEFAULT_ENDPOINT, **options,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self, e164: str, text: str, *, context: SmsContext | None = None, params: Mapping[str, str] | None = None
    ) -> SmsReceipt:
        """Send the template with ``params`` (the text itself is the sandbox's)."""
        query = {
            "PhoneNumbers": recipient(e164), "SignName": self._sign_name, "TemplateCode": self._template,
            "TemplateParam": json.dumps(dict(params or {}), ensure_ascii=False, separators=(",", ":")),
        }
        signed = sign_request(
            access_key_id=self._key_id, access_key_secret=self._secret, method="POST", host=self._host,
            action=ACTION, version=API_VERSION, params=query,
            date=self._now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), nonce=self._nonce(),
        )
        url = self._url.copy_with(query=signed.query.encode("ascii"))
        try:
            response = await self._client.post(url, headers=signed.headers)
        except httpx.TimeoutException:
            raise SmsUnavailable(NAME, f"{self._host} timed out") from None
        except httpx.TransportError as exc:
            raise SmsUnavailable(NAME, f"cannot reach {self._host} ({type(exc).__name__})") from None
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        code = body.get("Code") if isinstance(body, dict) else None
        if code == "OK":
            return SmsReceipt(provider=NAME, sent_at=self._now(), message_id=str(body.get("BizId") or "") or None)
        if not isinstance(code, str) or not _CODE_SHAPE.fullmatch(code):
            raise SmsUnavailable(NAME, f"unexpected answer (HTTP {response.status_code})")
        if code.startswith(("InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden")):
            raise SmsUnavailable(NAME, f"access key refused ({code})")
        raise SmsUnavailable(NAME, ERRORS.get(code, f"error {code}"))
