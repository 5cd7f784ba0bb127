"""``linkdesk serve`` over real HTTP: tokens, several workers, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid

import httpx
import pytest

from linkdesk.client import DeskClient
from linkdesk.client.errors import Unauthorized, ValidationFailed
from linkdesk.domain import CaseCategory, CaseCreate
from linkdesk.domain.reveal import RevealField, RevealReason

from .conftest import free_port, wait_for

PG_URL = os.environ.get("LINKDESK_TEST_PG_URL")


def healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/api/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def serve_and_check(linkdesk_cmd, run_env, started, extra: list[str]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    token = subprocess.run(
        linkdesk_cmd + ["agents", "add", "li.qiang", "--role", "agent", *extra],
        env=run_env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    started.append(
        subprocess.Popen(
            linkdesk_cmd + ["serve", "--port", str(port), "--workers", "2", *extra],
            env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
    )
    wait_for(lambda: healthy(url), what="linkdesk serve")

    async def scenario():
        async with DeskClient(url) as anonymous:
            with pytest.raises(Unauthorized):
                await anonymous.views()
        async with DeskClient(url, token="ld_not-a-token") as wrong:
            with pytest.raises(Unauthorized):
                await wrong.views()
        async with DeskClient(url, token=token) as client:
            assert (await client.me()).name == "li.qiang"
            case = await client.create_case(
                CaseCreate(category=CaseCategory.UNREACHABLE, subject="借款人停机 unreachable", phone="13912345678")
            )
            assert case.phone == "139****5678"
            # both workers see the same desk
            for _ in range(6):
                assert (await client.get_case(case.ref)).subject == "借款人停机 unreachable"
            revealed = await client.reveal(
                case.ref, RevealField.PHONE, reason=RevealReason.BORROWER_ON_LINE, note="borrower asked"
            )
            assert revealed.value == "+8613912345678"
            with pytest.raises(ValidationFailed):  # refused input must not come back or reach the log
                await client.create_case(
                    CaseCreate(category=CaseCategory.UNREACHABLE, subject="x", phone="1391234567")
                )

    asyncio.run(scenario())
    listed = subprocess.run(
        linkdesk_cmd + ["--server", url, "--token", token, "cases", "list"],
        env=run_env, capture_output=True, text=True,
    )
    assert listed.returncode == 0, listed.stderr
    assert "139****5678" in listed.stdout and "13912345678" not in listed.stdout
    server = started.pop()
    server.terminate()
    _out, log = server.communicate(timeout=15)
    assert b"Application startup complete" in log  # the log was captured
    assert b"13912345678" not in log and b"1391234567" not in log


def test_serve_on_sqlite_with_two_workers(linkdesk_cmd, run_env, started):
    serve_and_check(linkdesk_cmd, run_env, started, [])


@pytest.mark.skipif(not PG_URL, reason="LINKDESK_TEST_PG_URL is not set")
def test_serve_on_postgresql(linkdesk_cmd, run_env, started, tmp_path):
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(PG_URL)
    name = f"linkdesk_e2e_{uuid.uuid4().hex[:8]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        serve_and_check(
            linkdesk_cmd, run_env, started, ["--database-url", url, "--key-file", str(tmp_path / "k")]
        )
    finally:
        for process in started:
            process.terminate()
            process.wait(timeout=15)
        started.clear()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
