"""Bearer tokens, the local agent, health, OpenAPI, problem+json."""

from __future__ import annotations

from linkdesk.client import DeskClient
from linkdesk.server.agents import issue_token
from linkdesk.server.db import make_session_factory

from .conftest import Desk, raw


async def test_team_desk_requires_a_token(team_desk: Desk) -> None:
    async with raw(team_desk) as http:
        for path in ("/me", "/cases", "/views", "/agents"):
            response = await http.get(path)
            assert response.status_code == 401, path
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["type"] == "urn:linkdesk:problem:unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
        assert (await http.get("/health")).status_code == 200
    async with raw(team_desk, token="ld_wrong") as http:
        assert (await http.get("/me")).status_code == 401


async def test_issued_token_works(team_desk: Desk) -> None:
    with make_session_factory(team_desk.engine)() as session:
        token = issue_token(session, "wangfang", "王芳 Wang Fang", "agent")
    async with team_desk.app.router.lifespan_context(team_desk.app):
        import httpx

        async with DeskClient("http://desk", token=token, transport=httpx.ASGITransport(app=team_desk.app)) as c:
            me = await c.me()
            assert me.name == "wangfang" and me.role == "agent"
            assert [a.name for a in await c.agents()] == ["local", "wangfang"]
    with make_session_factory(team_desk.engine)() as session:
        again = issue_token(session, "wangfang", "王芳", "supervisor")
    async with raw(team_desk, token=token) as http:
        assert (await http.get("/me")).status_code == 401  # the old token was replaced
    async with raw(team_desk, token=again) as http:
        assert (await http.get("/me")).json()["role"] == "supervisor"


async def test_embedded_desk_runs_as_local(client: DeskClient) -> None:
    me = await client.me()
    assert (me.name, me.role) == ("local", "admin")
    health = await client.health()
    assert health["status"] == "ok" and health["database"] in ("sqlite", "postgresql")


async def test_openapi_and_unknown_routes(fresh: Desk) -> None:
    async with raw(fresh) as http:
        schema = (await http.get("/openapi.json")).json()
        assert "/api/v1/cases" in schema["paths"] and "/api/v1/cases/{ref}/events" in schema["paths"]
        missing = await http.get("/nowhere")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["type"] == "urn:linkdesk:problem:not-found"


async def test_unexpected_errors_are_500_problems(fresh: Desk, caplog) -> None:  # type: ignore[no-untyped-def]
    @fresh.app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret 13812345678")

    async with raw(fresh) as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    assert response.json()["type"] == "urn:linkdesk:problem:internal"
    assert "13812345678" not in response.text and "13812345678" not in caplog.text
    assert "RuntimeError" in caplog.text
