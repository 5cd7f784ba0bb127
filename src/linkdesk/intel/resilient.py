"""A provider wrapped so that it is cheap, polite and never hangs the desk.

:class:`ResilientProvider` implements :class:`IntelProvider` around another one:

* **cache** — a report is kept per (number, reference date, identity) for ``ttl``
  seconds (``partial_ttl`` when some checks were unavailable, so they are retried
  soon). Keys are HMAC-SHA-256 digests under a per-process random key: a heap dump
  shows no number, and the digests cannot be brute-forced offline.
* **rate limit** — a token bucket (``rate`` per second, ``burst``); a call waits for a
  token up to ``max_wait`` seconds, else it is refused with ``retry_after``.
* **circuit breaker** — closed; open after ``failure_threshold`` consecutive failures
  (no call reaches the provider for ``reset_after`` seconds); then half-open: one trial
  call, which closes it again or re-opens it.
* **back-off** — an :class:`IntelUnavailable` carrying ``retry_after`` (a carrier's
  frequency limit, HTTP 429) holds every call until then.
* **deadline** — a call that takes longer than ``timeout`` seconds is abandoned.

Every refusal is an :class:`IntelUnavailable` whose reason the desk shows as "intel
unavailable: …"; an unexpected exception of the provider becomes one too.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import date

from linkdesk.domain.intel import Identity, IntelReport, IntelUnavailable
from linkdesk.intel.base import IntelProvider, InvalidNumberForProvider

logger = logging.getLogger(__name__)


class CircuitState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class ResilientProvider:
    def __init__(
        self,
        inner: IntelProvider,
        *,
        ttl: float = 6 * 3600.0,
        partial_ttl: float = 60.0,
        rate: float = 5.0,
        burst: int = 10,
        max_wait: float = 2.0,
        failure_threshold: int = 5,
        reset_after: float = 60.0,
        timeout: float = 20.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1 or failure_threshold < 1:
            raise ValueError("rate must be positive, burst and failure_threshold at least 1")
        self.inner = inner
        self.name = inner.name
        self._ttl, self._partial_ttl = ttl, partial_ttl
        self._rate, self._burst, self._max_wait = rate, float(burst), max_wait
        self._threshold, self._reset_after = failure_threshold, reset_after
        self._timeout, self._max_entries = timeout, max_entries
        self._clock, self._sleep = clock, sleep

        self._key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, tuple[float, IntelReport]] = OrderedDict()
        self._inflight: dict[bytes, asyncio.Future[IntelReport]] = {}
        self._tokens, self._refilled_at = self._burst, clock()
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False
        self._hold_until = float("-inf")

    def __repr__(self) -> str:
        return f"ResilientProvider({self.inner!r}, state={self.state.value})"

    @property
    def state(self) -> CircuitState:
        """The circuit as the next call would find it."""
        elapsed = self._clock() - self._opened_at
        if self._state is CircuitState.OPEN and elapsed >= self._reset_after:
            return CircuitState.HALF_OPEN
        return self._state

    async def aclose(self) -> None:
        await self.inner.aclose()

    def forget(self, e164: str, *, reference_date: date, identity: Identity | None = None) -> None:
        """Drop a cached report, so that the next check asks the provider again."""
        self._cache.pop(self._cache_key(e164, reference_date, identity), None)

    def clear(self) -> None:
        self._cache.clear()

    async def check(
        self, e164: str, *, reference_date: date, identity: Identity | None = None
    ) -> IntelReport:
        key = self._cache_key(e164, reference_date, identity)
        cached = self._cached(key)
        if cached is not None:
            return cached
        running = self._inflight.get(key)
        if running is None:
            # one call per key at a time: the others wait for its answer
            running = asyncio.ensure_future(self._call(key, e164, reference_date, identity))
            self._inflight[key] = running
            running.add_done_callback(lambda done: self._settled(key, done))
        return await asyncio.shield(running)

    def _settled(self, key: bytes, done: asyncio.Future[IntelReport]) -> None:
        if self._inflight.get(key) is done:
            del self._inflight[key]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have gone

    async def _call(
        self, key: bytes, e164: str, reference_date: date, identity: Identity | None
    ) -> IntelReport:
        trial = self._admit()
        try:
            await self._take_token()
        except BaseException:
            if trial:
                self._trial_running = False
            raise
        try:
            async with asyncio.timeout(self._timeout):
                report = await self.inner.check(
                    e164, reference_date=reference_date, identity=identity
                )
        except InvalidNumberForProvider:
            self._succeeded()  # the provider answered: the number is the problem
            raise
        except IntelUnavailable as exc:
            self._failed(exc.retry_after)
            raise
        except TimeoutError:
            self._failed(None)
            raise IntelUnavailable(self.name, f"no answer within {self._timeout:g} s") from None
        except asyncio.CancelledError:
            if trial:
                self._trial_running = False
            raise
        except Exception as exc:
            # a provider bug must not reach the console; its message may hold a number
            logger.error("%s check failed: %s", self.name, type(exc).__name__)
            self._failed(None)
            raise IntelUnavailable(self.name, f"unexpected error ({type(exc).__name__})") from exc
        self._succeeded()
        self._store(key, report)
        return report

    # circuit breaker and back-off

    def _admit(self) -> bool:
        """Raise if no call may go out now; return whether this call is the trial."""
        now = self._clock()
        if now < self._hold_until:
            wait = self._hold_until - now
            raise IntelUnavailable(
                self.name, f"asked to back off, retry in {wait:.0f} s", retry_after=wait
            )
        if self._state is CircuitState.OPEN:
            wait = self._opened_at + self._reset_after - now
            if wait > 0:
                raise IntelUnavailable(
                    self.name, f"circuit open, retry in {wait:.0f} s", retry_after=wait
                )
            self._state = CircuitState.HALF_OPEN
        if self._state is CircuitState.HALF_OPEN:
            if self._trial_running:
                raise IntelUnavailable(self.name, "circuit half-open, a trial check is running")
            self._trial_running = True
            return True
        return False

    def _succeeded(self) -> None:
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._trial_running = False

    def _failed(self, retry_after: float | None) -> None:
        now = self._clock()
        if retry_after is not None and retry_after > 0:
            # told when to come back: the provider is up, so this is no outage
            self._hold_until = max(self._hold_until, now + retry_after)
        else:
            self._failures += 1
        if self._state is CircuitState.HALF_OPEN or self._failures >= self._threshold:
            if self._state is not CircuitState.OPEN:
                logger.warning("%s circuit open after %d failure(s)", self.name, self._failures)
            self._state = CircuitState.OPEN
            self._opened_at = now
        self._trial_running = False

    # rate limit

    async def _take_token(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled_at) * self._rate)
        self._refilled_at = now
        self._tokens -= 1  # a negative balance is a queue of reservations
        if self._tokens >= 0:
            return
        wait = -self._tokens / self._rate
        if wait > self._max_wait:
            self._tokens += 1
            raise IntelUnavailable(
                self.name, f"rate limit reached, retry in {wait:.0f} s", retry_after=wait
            )
        await self._sleep(wait)

    # cache

    def _cache_key(self, e164: str, reference_date: date, identity: Identity | None) -> bytes:
        parts = [e164, reference_date.isoformat()]
        if identity is not None:
            parts += [identity.name, identity.id_number]
        message = "\x1f".join(parts).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _cached(self, key: bytes) -> IntelReport | None:
        entry = self._cache.get(key)
        if entry is None:
            return None
        expires_at, report = entry
        if self._clock() >= expires_at:
            del self._cache[key]
            return None
        self._cache.move_to_end(key)
        return report

    def _store(self, key: bytes, report: IntelReport) -> None:
        ttl = self._partial_ttl if report.unavailable else self._ttl
        if ttl <= 0:
            return
        self._cache[key] = (self._clock() + ttl, report)
        self._cache.move_to_end(key)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)
