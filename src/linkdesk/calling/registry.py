"""Which masked-calling provider a desk uses: ``LINKDESK_CALLING_PROVIDER`` = ``sandbox``
(the default) or ``aliyun`` (credentials from ``LINKDESK_ALIYUN_*``).

A real provider that is not configured does not stop the desk: it becomes one that
refuses every binding with the reason (which variable is missing)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime

from linkdesk.calling.base import AxbBinding, CallingError, MaskedCallProvider

log = logging.getLogger("linkdesk.calling")

ENV_PROVIDER = "LINKDESK_CALLING_PROVIDER"
PROVIDERS = ("sandbox", "aliyun")


class UnconfiguredCallingProvider:
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def __repr__(self) -> str:
        return f"UnconfiguredCallingProvider({self.name!r})"

    async def bind_axb(self, phone_a: str, phone_b: str, *, expires_at: datetime) -> AxbBinding:
        raise CallingError(self.name, self.reason)

    async def unbind(self, subscription_id: str, secret_no: str) -> None:
        raise CallingError(self.name, self.reason)

    async def aclose(self) -> None:
        return None


def build_calling_provider(
    name: str | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    environ: Mapping[str, str] | None = None,
) -> MaskedCallProvider:
    env = os.environ if environ is None else environ
    name = (name or env.get(ENV_PROVIDER, "") or "sandbox").strip().lower()
    if name not in PROVIDERS:
        return UnconfiguredCallingProvider(
            name, f"unknown calling provider {name!r}; set {ENV_PROVIDER} to one of {', '.join(PROVIDERS)}"
        )
    if name == "sandbox":
        from linkdesk.calling.sandbox import SandboxCallingProvider

        return SandboxCallingProvider(**({"clock": clock} if clock else {}))
    from linkdesk.calling.aliyun import AliyunCallingProvider, AliyunCallingSettings

    try:
        return AliyunCallingProvider(AliyunCallingSettings.from_env(env))
    except ValueError as exc:
        log.warning("calling provider %s unavailable: %s", name, exc)
        return UnconfiguredCallingProvider(name, str(exc))
