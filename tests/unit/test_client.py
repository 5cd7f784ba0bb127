"""DeskClient's contract: typed errors from problem+json, retries only when harmless."""

from __future__ import annotations

import httpx
import pytest

from linkdesk.client import DeskClient, DeskUnavailable, StaleVersion, ValidationFailed
from linkdesk.client.errors import Conflict, NotFound, ServerError
from linkdesk.domain import CaseCreate, CaseCategory, CasePatch, CaseStatus

PROBLEM = "application/problem+json"


def problem(status: int, title: str, **extra) -> httpx.Response:
    return httpx.Response(status, json={"type": "urn:x", "title": title, "status": status, **extra},
                          headers={"content-type": PROBLEM})


def client_with(handler) -> DeskClient:
    return DeskClient("http://desk", transport=httpx.MockTransport(handler))


async def test_validation_problem_names_the_fields():
    def handler(request):
        return problem(422, "Invalid input", errors=[{"field": "phone", "message": "too short"}])

    async with client_with(handler) as client:
        with pytest.raises(ValidationFailed) as err:
            await client.create_case(CaseCreate(category=CaseCategory.REBIND, subject="x", phone="1"))
    assert [(e.field, e.message) for e in err.value.field_errors] == [("phone", "too short")]


async def test_stale_write_carries_the_current_version_and_sends_if_match():
    seen = {}

    def handler(request):
        seen["if_match"] = request.headers.get("if-match")
        return problem(412, "Stale version", current_version=7)

    async with client_with(handler) as client:
        with pytest.raises(StaleVersion) as err:
            await client.update_case("LD-000001", CasePatch(status=CaseStatus.OPEN), version=5)
    assert err.value.current_version == 7
    assert seen["if_match"] == '"5"'


@pytest.mark.parametrize(("status", "error"), [(404, NotFound), (409, Conflict), (503, ServerError)])
async def test_statuses_map_to_typed_errors(status, error):
    async with client_with(lambda request: problem(status, "Nope")) as client:
        with pytest.raises(error) as err:
            await client.get_case("LD-000001")
    assert err.value.title == "Nope"


async def test_non_problem_error_bodies_still_become_typed_errors():
    async with client_with(lambda request: httpx.Response(502, text="<html>bad gateway</html>")) as client:
        with pytest.raises(ServerError) as err:
            await client.views()
    assert err.value.status == 502


async def test_reads_are_retried_then_reported_unavailable():
    calls = []

    def handler(request):
        calls.append(request.method)
        raise httpx.ConnectError("refused")

    async with client_with(handler) as client:
        with pytest.raises(DeskUnavailable):
            await client.views()
    assert calls == ["GET", "GET", "GET"]


async def test_updates_are_never_retried():
    calls = []

    def handler(request):
        calls.append(request.method)
        raise httpx.ReadTimeout("slow")

    async with client_with(handler) as client:
        with pytest.raises(DeskUnavailable):
            await client.update_case("LD-000001", CasePatch(status=CaseStatus.OPEN), version=1)
    assert calls == ["PATCH"]


async def test_creates_retry_with_the_same_idempotency_key():
    keys = []

    def handler(request):
        keys.append(request.headers["idempotency-key"])
        if len(keys) == 1:
            raise httpx.ReadTimeout("lost answer")
        return problem(422, "stop here")

    async with client_with(handler) as client:
        with pytest.raises(ValidationFailed):
            await client.create_case(CaseCreate(category=CaseCategory.REBIND, subject="lost SIM"))
    assert len(keys) == 2 and keys[0] == keys[1]
