"""Which provider answers a desk's checks, built from its settings.

``intel_provider`` names it: ``sandbox`` (the default, the desk's own registry),
``aliyun`` or ``twilio`` (their credentials from the environment, read by their own
``from_env``). Every provider is wrapped in :class:`~linkdesk.intel.resilient.ResilientProvider`
(cache, rate limit, circuit breaker, deadline). The sandbox is wrapped without a cache:
its answers cost nothing and must follow the registry at once.

A real provider that is not configured does not stop the desk: it becomes a provider
that answers every check with "intel unavailable" and the reason (which variable is
missing), so the console says so where the intel would be.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from linkdesk.domain.intel import Identity, IntelReport, IntelUnavailable
from linkdesk.intel.base import IntelProvider
from linkdesk.server.crypto import KeyRing

log = logging.getLogger("linkdesk.intel")

PROVIDERS = ("sandbox", "aliyun", "twilio")


class UnconfiguredProvider:
    """Stands in for a provider that could not be built: every check is unavailable."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def __repr__(self) -> str:
        return f"UnconfiguredProvider({self.name!r})"

    async def check(
        self, e164: str, *, reference_date: date, identity: Identity | None = None
    ) -> IntelReport:
        raise IntelUnavailable(self.name, self.reason)

    async def aclose(self) -> None:
        return None


def _real(name: str) -> IntelProvider:
    """``aliyun`` / ``twilio`` from the environment (imported only when chosen)."""
    if name == "aliyun":
        from linkdesk.intel import aliyun as module

        provider_class: Any = module.AliyunProvider
        settings_class: Any = getattr(module, "AliyunSettings", None)
    else:
        from linkdesk.intel import twilio as module

        provider_class = module.TwilioProvider
        settings_class = getattr(module, "TwilioSettings", None)
    if hasattr(provider_class, "from_env"):
        return provider_class.from_env()  # type: ignore[no-any-return]
    return provider_class(settings_class.from_env())  # type: ignore[no-any-return]


def build_provider(
    name: str,
    session_factory: sessionmaker[Session] | Engine,
    keyring: KeyRing,
    *,
    clock: Callable[[], datetime] | None = None,
    resilient: bool = True,
) -> IntelProvider:
    """The provider ``name`` for a desk, wrapped (``resilient``) against outages."""
    if name not in PROVIDERS:
        raise ValueError(f"unknown intel provider {name!r}; use one of {', '.join(PROVIDERS)}")
    provider: IntelProvider
    if name == "sandbox":
        from linkdesk.intel.sandbox import SandboxProvider

        provider = SandboxProvider(session_factory, keyring, **({"clock": clock} if clock else {}))
    else:
        try:
            provider = _real(name)
        except (ValueError, ImportError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else f"{name} is not installed"
            log.warning("intel provider %s unavailable: %s", name, reason)
            provider = UnconfiguredProvider(name, reason)
    if resilient and not isinstance(provider, UnconfiguredProvider):
        provider = _wrap(provider, sandbox=name == "sandbox")
    return provider


def _wrap(provider: IntelProvider, *, sandbox: bool) -> IntelProvider:
    try:
        from linkdesk.intel.resilient import ResilientProvider
    except ImportError:  # pragma: no cover - the wrapper ships with the providers
        return provider
    if sandbox:
        # local and free: no cache (a registry change shows at once), no rate limit to speak of
        return ResilientProvider(provider, ttl=0, partial_ttl=0, rate=1000.0, burst=1000)
    from_env = getattr(ResilientProvider, "from_env", None)
    if from_env is not None:
        return from_env(provider)  # type: ignore[no-any-return]
    return ResilientProvider(provider)
