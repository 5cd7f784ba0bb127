"""Which SMS provider sends a desk's one-time codes.

``LINKDESK_SMS_PROVIDER`` names it: ``sandbox`` (the default: the desk's outbox) or
``aliyun`` (Dysmsapi ``SendSms``, credentials and sign/template from its own variables).
A real provider that cannot be built does not stop the desk: every send then fails with
the reason, which the agent sees when asking for a code.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from linkdesk.server.crypto import KeyRing
from linkdesk.sms.base import SmsContext, SmsProvider, SmsReceipt, SmsUnavailable

log = logging.getLogger("linkdesk.sms")

PROVIDERS = ("sandbox", "aliyun")
ENV = "LINKDESK_SMS_PROVIDER"


class UnconfiguredSms:
    """Stands in for a provider that could not be built: every send fails with why."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    async def send(
        self, e164: str, text: str, *, context: SmsContext | None = None, params: Mapping[str, str] | None = None
    ) -> SmsReceipt:
        raise SmsUnavailable(self.name, self.reason)

    async def aclose(self) -> None:
        return None


def provider_name(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return (env.get(ENV) or "sandbox").strip().lower()


def build_sms_provider(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    *,
    name: str | None = None,
    clock: Callable[[], datetime] | None = None,
    environ: Mapping[str, str] | None = None,
) -> SmsProvider:
    name = name or provider_name(environ)
    if name not in PROVIDERS:
        raise ValueError(f"unknown SMS provider {name!r}; use one of {', '.join(PROVIDERS)}")
    if name == "sandbox":
        from linkdesk.sms.sandbox import SandboxSms

        return SandboxSms(sessions, keyring, **({"clock": clock} if clock else {}))
    try:
        from linkdesk.sms.aliyun import AliyunSms

        return AliyunSms.from_env(environ)
    except (ValueError, ImportError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else f"{name} is not installed"
        log.warning("SMS provider %s unavailable: %s", name, reason)
        return UnconfiguredSms(name, reason)
