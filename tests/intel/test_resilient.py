"""Cache, rate limit, circuit breaker and back-off, on an injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from linkdesk.domain.intel import Identity, IntelReport, IntelUnavailable, Tenure
from linkdesk.intel.base import InvalidNumberForProvider
from linkdesk.intel.resilient import CircuitState, ResilientProvider

NUMBER = "+8613812345678"
REF = date(2023, 3, 15)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeper:
    """Records each wait and lets that much time pass on the clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)


def report(**fields) -> IntelReport:
    return IntelReport(provider="fake", checked_at=datetime(2024, 6, 1, tzinfo=UTC),
                       reference_date=REF, **fields)


class Scripted:
    """A provider that answers from a script: reports, or exceptions to raise."""

    name = "fake"

    def __init__(self, *outcomes) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple] = []
        self.closed = False

    async def check(self, e164, *, reference_date, identity=None):
        self.calls.append((e164, reference_date, identity))
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def aclose(self):
        self.closed = True


def down(reason="connection refused", retry_after=None) -> IntelUnavailable:
    return IntelUnavailable("fake", reason, retry_after=retry_after)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sleeper(clock):
    return Sleeper(clock)


@pytest.fixture
def wrap(clock, sleeper):
    def make(inner, **options) -> ResilientProvider:
        defaults = {"ttl": 600.0, "partial_ttl": 30.0, "rate": 1.0, "burst": 100, "max_wait": 2.0,
                        "failure_threshold": 3, "reset_after": 60.0}
        return ResilientProvider(inner, clock=clock, sleep=sleeper, **(defaults | options))
    return make


async def check(provider, number=NUMBER, reference_date=REF, identity=None):
    return await provider.check(number, reference_date=reference_date, identity=identity)


# cache


async def test_a_cached_report_is_answered_until_the_ttl_passes(wrap, clock):
    inner = Scripted(report(tenure=Tenure.OVER_24M))
    provider = wrap(inner)

    first = await check(provider)
    clock.advance(599)
    again = await check(provider)
    clock.advance(1)
    later = await check(provider)

    assert first == again == later and first.tenure is Tenure.OVER_24M
    assert len(inner.calls) == 2


async def test_the_cache_tells_numbers_dates_and_identities_apart(wrap):
    inner = Scripted(report())
    provider = wrap(inner)

    await check(provider)
    await check(provider, number="+8613900000000")
    await check(provider, reference_date=date(2024, 1, 1))
    await check(provider, identity=Identity(name="张三", id_number="1"))
    await check(provider, identity=Identity(name="李四", id_number="1"))
    await check(provider, identity=Identity(name="李四", id_number="1"))

    assert len(inner.calls) == 5


async def test_a_partial_report_is_kept_only_briefly(wrap, clock):
    inner = Scripted(report(unavailable=["tenure: portability not supported"]))
    provider = wrap(inner)

    await check(provider)
    clock.advance(29)
    await check(provider)
    clock.advance(1)
    await check(provider)

    assert len(inner.calls) == 2


async def test_forget_makes_the_next_check_ask_again(wrap):
    inner = Scripted(report())
    provider = wrap(inner)

    await check(provider)
    provider.forget(NUMBER, reference_date=REF)
    await check(provider)

    assert len(inner.calls) == 2


async def test_the_cache_holds_no_number(wrap):
    provider = wrap(Scripted(report()))

    await check(provider, identity=Identity(name="张三", id_number="110105194912310021"))

    held = repr(provider._cache) + repr(provider._inflight)
    assert "13812345678" not in held and "110105194912310021" not in held
    assert "张三" not in held and "\\u5f20" not in held


async def test_failures_are_not_cached(wrap):
    inner = Scripted(down(), report())
    provider = wrap(inner)

    with pytest.raises(IntelUnavailable):
        await check(provider)
    assert (await check(provider)).provider == "fake"


async def test_concurrent_checks_of_one_number_share_one_call(wrap):
    gate = asyncio.Event()

    class Slow(Scripted):
        async def check(self, e164, *, reference_date, identity=None):
            self.calls.append(e164)
            await gate.wait()
            return report()

    inner = Slow()
    provider = wrap(inner)
    waiting = [asyncio.create_task(check(provider)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()

    answers = await asyncio.gather(*waiting)

    assert len(inner.calls) == 1 and answers[0] == answers[1] == answers[2]


# rate limit


async def test_calls_within_the_burst_do_not_wait(wrap, sleeper):
    provider = wrap(Scripted(report()), rate=1.0, burst=3)

    for n in range(3):
        await check(provider, number=f"+861380000000{n}")

    assert sleeper.waits == []


async def test_a_call_past_the_burst_waits_for_a_token(wrap, sleeper):
    inner = Scripted(report())
    provider = wrap(inner, rate=2.0, burst=2)

    for n in range(3):
        await check(provider, number=f"+861380000000{n}")

    assert sleeper.waits == [0.5] and len(inner.calls) == 3


async def test_a_call_that_would_wait_too_long_is_refused(wrap, sleeper):
    inner = Scripted(report())
    provider = wrap(inner, rate=0.1, burst=1, max_wait=2.0)

    await check(provider, number="+8613800000000")
    with pytest.raises(IntelUnavailable) as raised:
        await check(provider, number="+8613800000001")

    assert raised.value.retry_after == pytest.approx(10.0)
    assert "rate limit" in raised.value.reason
    assert len(inner.calls) == 1 and sleeper.waits == []


async def test_tokens_come_back_with_time(wrap, clock, sleeper):
    provider = wrap(Scripted(report()), rate=0.1, burst=1, max_wait=0.0)

    await check(provider, number="+8613800000000")
    clock.advance(10)
    await check(provider, number="+8613800000001")

    assert sleeper.waits == []


async def test_cache_hits_take_no_token(wrap):
    inner = Scripted(report())
    provider = wrap(inner, rate=0.1, burst=1, max_wait=0.0)

    answers = [await check(provider) for _ in range(5)]

    assert all(a.provider == "fake" for a in answers) and len(inner.calls) == 1


# circuit breaker


async def test_the_circuit_opens_after_consecutive_failures(wrap):
    inner = Scripted(down())
    provider = wrap(inner, failure_threshold=3, reset_after=60.0)

    for _ in range(3):
        with pytest.raises(IntelUnavailable):
            await check(provider)
    assert provider.state is CircuitState.OPEN

    with pytest.raises(IntelUnavailable) as raised:
        await check(provider)

    assert len(inner.calls) == 3
    assert raised.value.reason == "circuit open, retry in 60 s"
    assert raised.value.retry_after == pytest.approx(60.0)


async def test_a_success_resets_the_count_of_failures(wrap):
    inner = Scripted(down(), down(), report(), down(), down(), report())
    provider = wrap(inner, failure_threshold=3)

    for n in range(6):
        try:
            await check(provider, number=f"+861380000000{n}")
        except IntelUnavailable:
            pass

    assert provider.state is CircuitState.CLOSED and len(inner.calls) == 6


async def test_after_reset_after_one_trial_call_closes_a_healed_circuit(wrap, clock):
    inner = Scripted(down(), report())
    provider = wrap(inner, failure_threshold=1, reset_after=60.0)
    with pytest.raises(IntelUnavailable):
        await check(provider)

    clock.advance(59)
    assert provider.state is CircuitState.OPEN
    clock.advance(1)
    assert provider.state is CircuitState.HALF_OPEN
    answer = await check(provider)

    assert answer.provider == "fake" and provider.state is CircuitState.CLOSED
    assert len(inner.calls) == 2


async def test_a_failed_trial_opens_the_circuit_again(wrap, clock):
    inner = Scripted(down(), down(), report())
    provider = wrap(inner, failure_threshold=1, reset_after=60.0)
    with pytest.raises(IntelUnavailable):
        await check(provider)
    clock.advance(60)

    with pytest.raises(IntelUnavailable):
        await check(provider)
    assert provider.state is CircuitState.OPEN
    clock.advance(30)
    with pytest.raises(IntelUnavailable, match="circuit open"):
        await check(provider)

    assert len(inner.calls) == 2


async def test_half_open_lets_only_one_trial_through(wrap, clock):
    gate = asyncio.Event()

    class Healing(Scripted):
        async def check(self, e164, *, reference_date, identity=None):
            self.calls.append(e164)
            if len(self.calls) == 1:
                raise down()
            await gate.wait()
            return report()

    inner = Healing()
    provider = wrap(inner, failure_threshold=1, reset_after=60.0)
    with pytest.raises(IntelUnavailable):
        await check(provider)
    clock.advance(60)

    trial = asyncio.create_task(check(provider, number="+8613800000001"))
    await asyncio.sleep(0)
    with pytest.raises(IntelUnavailable, match="trial check is running"):
        await check(provider, number="+8613800000002")
    gate.set()
    await trial

    assert provider.state is CircuitState.CLOSED and len(inner.calls) == 2


async def test_an_invalid_number_is_no_failure_of_the_provider(wrap):
    inner = Scripted(InvalidNumberForProvider("aliyun: MobileNumberIllegal"))
    provider = wrap(inner, failure_threshold=1)

    for _ in range(3):
        with pytest.raises(InvalidNumberForProvider):
            await check(provider)

    assert provider.state is CircuitState.CLOSED and len(inner.calls) == 3


async def test_an_unexpected_error_becomes_intel_unavailable(wrap):
    provider = wrap(Scripted(KeyError("+8613812345678")), failure_threshold=1)

    with pytest.raises(IntelUnavailable) as raised:
        await check(provider)

    assert raised.value.reason == "unexpected error (KeyError)"
    assert "13812345678" not in str(raised.value)
    assert provider.state is CircuitState.OPEN


async def test_a_hanging_provider_is_abandoned_after_the_timeout(wrap):
    class Hanging(Scripted):
        async def check(self, e164, *, reference_date, identity=None):
            await asyncio.Event().wait()

    provider = wrap(Hanging(), timeout=0.01, failure_threshold=1)

    with pytest.raises(IntelUnavailable, match="no answer within 0.01 s"):
        await check(provider)
    assert provider.state is CircuitState.OPEN


# back-off asked by the provider


async def test_retry_after_from_the_provider_holds_every_call_until_then(wrap, clock):
    inner = Scripted(down("rate limited by the carrier", retry_after=30.0), report())
    provider = wrap(inner, failure_threshold=1)

    with pytest.raises(IntelUnavailable):
        await check(provider)
    clock.advance(20)
    with pytest.raises(IntelUnavailable) as held:
        await check(provider, number="+8613900000000")
    clock.advance(10)
    answer = await check(provider)

    assert held.value.retry_after == pytest.approx(10.0)
    assert held.value.reason == "asked to back off, retry in 10 s"
    assert answer.provider == "fake" and len(inner.calls) == 2
    assert provider.state is CircuitState.CLOSED  # a request to slow down is no outage


async def test_aclose_closes_the_inner_provider(wrap):
    inner = Scripted(report())

    await wrap(inner).aclose()

    assert inner.closed
