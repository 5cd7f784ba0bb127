"""The desk API application.

``create_app`` does not migrate: the caller runs :func:`linkdesk.server.db.migrate`
first (``linkdesk serve`` and the embedded desk do), so that a server never changes a
schema by surprise and tests control when it happens. The keys are loaded and checked
against the desk here (:func:`linkdesk.server.keys.open_keyring`), so a malformed,
missing or wrong key stops the server before it answers or writes anything.

The intel provider (``settings.intel_provider``, :mod:`linkdesk.intel.registry`) and the
risk policy are built here too, once per process: the provider's cache, rate limit and
circuit breaker are shared by every request. With ``monitor_every`` set, the lifespan
runs the monitor (:mod:`linkdesk.server.monitor`) in the background; of several
processes on one desk, the holder of the monitor lease does the work.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import Engine

from linkdesk import __version__
from linkdesk.domain.risk import load_policy
from linkdesk.domain.sla_policy import load_policy as load_sla_policy
from linkdesk.intel.base import IntelProvider
from linkdesk.server import idempotency, keys, problems, sla
from linkdesk.server.api import (
    agents,
    audit,
    borrowers,
    bulk,
    cases,
    contact,
    desk,
    do_not_contact,
    events,
    health,
    intel,
    playbook,
    reveal,
    views,
)
from linkdesk.server.crypto import KeyRing
from linkdesk.server.db import make_engine, make_session_factory
from linkdesk.server.settings import ServerSettings

API_PREFIX = "/api/v1"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: ServerSettings,
    *,
    engine: Engine | None = None,
    keyring: KeyRing | None = None,
    clock: Callable[[], datetime] = _utcnow,
    intel_provider: IntelProvider | None = None,
) -> FastAPI:
    engine = engine or make_engine(settings.database_url)
    keyring = keys.open_keyring(engine, settings, keyring)
    session_factory = make_session_factory(engine)
    policy = load_policy(settings.risk_policy)
    sla.use_policy(load_sla_policy(settings.sla_policy))  # issue 5: raises SlaPolicyError naming the key
    if intel_provider is None:
        from linkdesk.intel.registry import build_provider

        intel_provider = build_provider(settings.intel_provider, session_factory, keyring, clock=clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sync endpoints run in threads; SQLite collapses with the default 40 (floors §3).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.thread_limit
        with app.state.session_factory() as session:
            idempotency.prune(session, clock())
        monitor = None
        if settings.monitor_every > 0:
            from linkdesk.server.monitor import run_forever

            monitor = asyncio.create_task(run_forever(
                engine, keyring, app.state.intel_provider, every=timedelta(minutes=settings.monitor_every),
                clock=clock, policy=app.state.risk_policy,
                recheck_after=timedelta(minutes=settings.monitor_recheck_after),
                batch=settings.monitor_batch, timeout=settings.intel_timeout,
            ))
        # the first page's SLA fields need the business calendar: load it now, beside
        # the first requests rather than inside one of them
        warming = asyncio.create_task(anyio.to_thread.run_sync(sla.warm_up, clock()))
        sweeper = None
        if settings.sla_sweep_every > 0:  # issue 5: SLA breaches become timeline events
            sweeper = asyncio.create_task(sla.run_forever(
                engine, every=timedelta(seconds=settings.sla_sweep_every), clock=clock,
            ))
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await warming
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            if monitor is not None:
                monitor.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await monitor
            await app.state.intel_provider.aclose()
            calling = getattr(app.state, "calling_provider", None)  # built on first masked call
            if calling is not None:
                await calling.aclose()
            engine.dispose()

    app = FastAPI(
        title="LinkDesk desk API",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.keyring = keyring
    app.state.clock = clock
    app.state.intel_provider = intel_provider
    app.state.risk_policy = policy
    for module in (health, agents, views, bulk, cases, events, reveal, intel, do_not_contact, contact, audit, desk,
                   borrowers):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(playbook.router, prefix=API_PREFIX)  # issue 5: recycled-number playbook
    from linkdesk.server.api import rebind as rebind_api  # issue 5: rebinds, SMS outbox

    app.include_router(rebind_api.router, prefix=API_PREFIX)
    problems.install(app)
    app.add_middleware(VersionHeader)
    return app


VERSION_HEADER = b"linkdesk-version"


class VersionHeader:
    """Every answer says which LinkDesk made it, so a client can tell that a long-running
    local desk service is older than itself (plain ASGI: no per-request task)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (VERSION_HEADER, __version__.encode())]
            await send(message)

        await self.app(scope, receive, send_with_version)
