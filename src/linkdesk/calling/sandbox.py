"""The sandbox masked-calling provider: no network, no state of its own.

X comes from the test range 170 0000 0000–170 0000 9999 (170 is a virtual-operator
prefix; the range is documented in docs/contact.md as never dialled for real), chosen
deterministically from A, B and the expiry, so a test or a demo knows what to expect.
The subscription id carries the expiry and a keyed digest, so ``unbind`` can tell an
expired or forged binding from a live one without remembering anything: whatever the
desk needs to keep, it keeps in its own tables.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from linkdesk.calling.base import AxbBinding, CallingError, SubscriptionGone

TEST_RANGE_PREFIX = "+861700000"
"""X is ``+861700000`` and four digits: 170 0000 0000–170 0000 9999."""
MIN_AHEAD = timedelta(minutes=1)
MAX_AHEAD = timedelta(hours=24)
_KEY = b"linkdesk-sandbox-calling"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _digest(*parts: str) -> str:
    return hmac.new(_KEY, "|".join(parts).encode(), hashlib.sha256).hexdigest()


class SandboxCallingProvider:
    name = "sandbox"

    def __init__(self, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._clock = clock

    def __repr__(self) -> str:
        return "SandboxCallingProvider()"

    @staticmethod
    def secret_no_for(phone_a: str, phone_b: str, expires_at: datetime) -> str:
        digits = int(_digest(phone_a, phone_b, str(int(expires_at.timestamp())))[:8], 16) % 10_000
        return f"{TEST_RANGE_PREFIX}{digits:04d}"

    async def bind_axb(self, phone_a: str, phone_b: str, *, expires_at: datetime) -> AxbBinding:
        now = self._clock()
        if expires_at - now < MIN_AHEAD:
            raise CallingError(self.name, "expiry less than 1 minute from now", code="isv.EXPIRE_DATE_ILLEGAL")
        if expires_at - now > MAX_AHEAD:
            raise CallingError(self.name, "expiry more than 24 hours from now", code="isv.EXPIRE_DATE_ILLEGAL")
        if phone_a == phone_b:
            raise CallingError(self.name, "A and B are the same number", code="isv.ILLEGAL_ARGUMENT")
        secret_no = self.secret_no_for(phone_a, phone_b, expires_at)
        expiry = int(expires_at.timestamp())
        subs = f"sbx-{expiry}-{_digest(secret_no, str(expiry))[:16]}"
        return AxbBinding(secret_no=secret_no, subscription_id=subs,
                          expires_at=datetime.fromtimestamp(expiry, UTC))

    async def unbind(self, subscription_id: str, secret_no: str) -> None:
        prefix, _, rest = subscription_id.partition("-")
        expiry, _, mac = rest.partition("-")
        if prefix != "sbx" or not expiry.isdigit() or not hmac.compare_digest(
            mac, _digest(secret_no, expiry)[:16]
        ):
            raise SubscriptionGone(self.name, "no such subscription", code="isv.NO_NOT_EXIST")
        if datetime.fromtimestamp(int(expiry), UTC) <= self._clock():
            raise SubscriptionGone(self.name, "the subscription has expired", code="isv.NO_NOT_EXIST")

    async def aclose(self) -> None:
        return None
