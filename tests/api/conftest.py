"""Fixtures for the API suite: each test runs on SQLite and, when LINKDESK_TEST_PG_URL is
set, on PostgreSQL (a fresh schema per database, dropped afterwards)."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from linkdesk.client import DeskClient
from linkdesk.server.app import create_app
from linkdesk.server.crypto import KeyRing
from linkdesk.server.db import make_engine, migrate
from linkdesk.server.demo import DemoSummary, seed_demo
from linkdesk.server.settings import ServerSettings

PG_URL = os.environ.get("LINKDESK_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=[pytest.mark.pg, pytest.mark.skipif(not PG_URL, reason="LINKDESK_TEST_PG_URL not set")]),
]
MASTER_KEY = base64.b64encode(b"k" * 32).decode()
SEED_NOW = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


@dataclass
class Desk:
    backend: str
    url: str
    app: FastAPI
    engine: sa.Engine
    keyring: KeyRing
    db_path: Path | None = None
    summary: DemoSummary | None = None


def _database(backend: str, tmp: Path) -> tuple[str, Path | None, object]:
    """A URL for an empty database, its file (SQLite) and a cleanup token."""
    if backend == "sqlite":
        path = tmp / f"desk-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", path, None
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), None, schema


def _drop(schema: object) -> None:
    if schema is None:
        return
    admin = sa.create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _make_desk(backend: str, tmp: Path, *, local_agent: bool = True) -> tuple[Desk, object]:
    url, path, token = _database(backend, tmp)
    migrate(url)
    settings = ServerSettings(database_url=url, master_key=MASTER_KEY, local_agent=local_agent)
    engine = make_engine(url)
    keyring = KeyRing.load(master_key=MASTER_KEY)
    app = create_app(settings, engine=engine, keyring=keyring)
    return Desk(backend, url, app, engine, keyring, path), token


@pytest.fixture(scope="session", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """A desk with 200 demo cases, shared by the tests that only read."""
    desk, token = _make_desk(request.param, tmp_path_factory.mktemp("seeded"))
    desk.summary = seed_demo(desk.engine, desk.keyring, cases=200, borrowers=80, seed=42, now=SEED_NOW)
    yield desk
    desk.engine.dispose()
    _drop(token)


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    """An empty, migrated desk for one test that writes."""
    desk, token = _make_desk(request.param, tmp_path)
    yield desk
    desk.engine.dispose()
    _drop(token)


@pytest.fixture(params=BACKENDS)
def team_desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    """An empty desk as ``linkdesk serve`` runs it: a bearer token is required."""
    desk, token = _make_desk(request.param, tmp_path, local_agent=False)
    yield desk
    desk.engine.dispose()
    _drop(token)


async def _client(desk: Desk, token: str | None = None) -> AsyncIterator[DeskClient]:
    async with desk.app.router.lifespan_context(desk.app):
        async with DeskClient("http://desk", token=token, transport=httpx.ASGITransport(app=desk.app)) as client:
            yield client


@pytest.fixture
async def reader(seeded: Desk) -> AsyncIterator[DeskClient]:
    async for client in _client(seeded):
        yield client


@pytest.fixture
async def client(fresh: Desk) -> AsyncIterator[DeskClient]:
    async for c in _client(fresh):
        yield c


def raw(desk: Desk, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        base_url="http://desk/api/v1", transport=httpx.ASGITransport(app=desk.app), headers=headers
    )
