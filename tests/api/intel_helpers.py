"""What the intel, monitor and do-not-contact tests share: a desk app with a chosen clock
and provider, reading the desk's numbers, and changing the world behind a number."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from linkdesk.client import DeskClient
from linkdesk.domain.borrowers import mask_id_number, mask_name
from linkdesk.domain.intel import IntelReport, IntelUnavailable
from linkdesk.domain.phones import last_four, mask
from linkdesk.intel.sandbox import SandboxProvider
from linkdesk.server.app import create_app
from linkdesk.server.crypto import aad
from linkdesk.server.data_keys import open_sealed
from linkdesk.server.db import make_session_factory
from linkdesk.server.tables import BindingRow, BorrowerRow

from .conftest import SEED_NOW, Desk

CHECK_AT = SEED_NOW + timedelta(days=1)


@dataclass
class Clock:
    now: datetime = CHECK_AT

    def __call__(self) -> datetime:
        return self.now


def app_for(desk: Desk, clock: Clock, provider: Any = None, **settings: Any) -> FastAPI:
    """The desk's app with ``clock``; the sandbox (on that clock) unless ``provider``."""
    updated = desk.app.state.settings.model_copy(update=settings)
    if provider is None:
        provider = SandboxProvider(make_session_factory(desk.engine), desk.keyring, clock=clock)
    return create_app(updated, engine=desk.engine, keyring=desk.keyring, clock=clock, intel_provider=provider)


@asynccontextmanager
async def clients(app: FastAPI, token: str | None = None) -> AsyncIterator[tuple[DeskClient, httpx.AsyncClient]]:
    """A typed client and a raw one, inside the app's lifespan."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        app.router.lifespan_context(app),
        DeskClient("http://desk", token=token, transport=httpx.ASGITransport(app=app)) as typed,
        httpx.AsyncClient(base_url="http://desk/api/v1", transport=httpx.ASGITransport(app=app),
                          headers=headers) as raw,
    ):
        yield typed, raw


def number_of(desk: Desk, binding_id: int) -> str:
    with desk.engine.connect() as conn:
        blob = conn.scalar(sa.text("SELECT phone_enc FROM phone_bindings WHERE id = :i"), {"i": binding_id})
        return open_sealed(conn, desk.keyring, blob, aad("phone_bindings", "phone_enc", binding_id))


def clean_active_bindings(desk: Desk) -> list[tuple[int, int]]:
    """(binding id, borrower id) of active bindings whose last report found nothing wrong
    with the line (in service, not re-issued, not shared), one per borrower."""
    import json

    with desk.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT b.id, b.borrower_id, r.report, a.assessment FROM phone_bindings b "
            "JOIN intel_reports r ON r.binding_id = b.id JOIN risk_assessments a ON a.binding_id = b.id "
            "WHERE b.status = 'active' ORDER BY b.id"
        )).all()
    found, borrowers = [], set()
    for binding_id, borrower_id, report, assessment in rows:
        report = json.loads(report) if isinstance(report, str) else report
        assessment = json.loads(assessment) if isinstance(assessment, str) else assessment
        codes = {s["code"] for s in assessment["signals"]}
        if (report["reassigned"] == "no" and report["line_status"] == "normal" and borrower_id not in borrowers
                and not codes & {"shared_number", "reassigned", "cancelled"}):
            found.append((binding_id, borrower_id))
            borrowers.add(borrower_id)
    return found


def add_borrower_with(desk: Desk, e164: str, bound_at: datetime, name: str = "赵新来",
                      id_number: str = "110101199202023456") -> tuple[int, int]:
    """A new borrower bound to ``e164`` (as sign-up would make one): (borrower, binding) ids."""
    keyring, version = desk.keyring, desk.keyring.writing_version()
    with desk.engine.begin() as conn:
        borrower_id = conn.scalar(sa.text("SELECT max(id) + 1 FROM borrowers"))
        binding_id = conn.scalar(sa.text("SELECT max(id) + 1 FROM phone_bindings"))
        conn.execute(sa.insert(BorrowerRow).values(
            id=borrower_id, name_enc=keyring.encrypt(name, aad("borrowers", "name_enc", borrower_id)),
            name_masked=mask_name(name), id_number_masked=mask_id_number(id_number),
            id_number_enc=keyring.encrypt(id_number, aad("borrowers", "id_number_enc", borrower_id)),
            created_at=bound_at, key_version=version,
        ))
        conn.execute(sa.insert(BindingRow).values(
            id=binding_id, borrower_id=borrower_id, phone_enc=keyring.encrypt(e164, aad("phone_bindings", "phone_enc", binding_id)),
            phone_index=keyring.blind_index(e164, version=version), phone_masked=mask(e164), last4=last_four(e164),
            carrier=None, region=None, status="active", bound_at=bound_at, unbound_at=None, key_version=version,
        ))
        if conn.dialect.name == "postgresql":
            for table in ("borrowers", "phone_bindings"):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    return borrower_id, binding_id


class DownProvider:
    """A provider whose circuit is open."""

    name = "aliyun"

    def __init__(self) -> None:
        self.calls = 0

    async def check(self, e164: str, **_: Any) -> IntelReport:
        self.calls += 1
        raise IntelUnavailable("aliyun", "circuit open", retry_after=60)

    async def aclose(self) -> None:
        return None


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
