"""The one interface every SMS provider implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class SmsUnavailable(Exception):
    """The message could not be sent (provider down, refused, not configured)."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


@dataclass(frozen=True)
class SmsContext:
    """What the message is about, for the sandbox's outbox (a real provider ignores it)."""

    borrower_id: int | None = None
    case_id: int | None = None
    rebind_id: int | None = None


@dataclass(frozen=True)
class SmsReceipt:
    provider: str
    sent_at: datetime
    message_id: str | None = None


class SmsProvider(Protocol):
    """Sends one text message to one E.164 number. Raises :class:`SmsUnavailable` when it
    cannot; never puts the number in an exception's text."""

    name: str

    async def send(
        self, e164: str, text: str, *, context: SmsContext | None = None, params: Mapping[str, str] | None = None
    ) -> SmsReceipt:
        """``text`` is the whole message; ``params`` the values of a provider's approved
        template (``{"code": "123456"}``), for providers that send templates only."""
        ...

    async def aclose(self) -> None: ...
