"""The masked-calling provider interface.

An AXB binding links two real numbers, A (the agent's line) and B (the borrower's), to
a privacy number X until it expires: A dials X and reaches B, and B sees X. The desk
asks for one per call, stores X and the provider's subscription id, and ends it early
with ``unbind``. Providers never see anything but the two numbers and the expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class AxbBinding:
    secret_no: str
    """X, the privacy number, in E.164 (``+8617000001234``)."""
    subscription_id: str
    """The provider's id of the binding (``SubsId``), needed to end it."""
    expires_at: datetime


class CallingError(Exception):
    """The provider could not bind or unbind. ``code`` is the provider's (e.g.
    ``isv.NO_AVAILABLE_NUMBER``); the message never carries a number or a credential."""

    def __init__(self, provider: str, message: str, *, code: str | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.code = code
        self.message = message


class SubscriptionGone(CallingError):
    """The binding does not exist any more at the provider (expired or already ended)."""


@runtime_checkable
class MaskedCallProvider(Protocol):
    name: str

    async def bind_axb(self, phone_a: str, phone_b: str, *, expires_at: datetime) -> AxbBinding:
        """Bind A and B (E.164) to a privacy number X until ``expires_at``."""
        ...

    async def unbind(self, subscription_id: str, secret_no: str) -> None:
        """End the binding now; :class:`SubscriptionGone` when there is none."""
        ...

    async def aclose(self) -> None: ...
