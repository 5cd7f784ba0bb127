"""Property-based tests of the whole API against its own OpenAPI document (schemathesis):
no input makes the desk fail (5xx), and every answer matches what the document says —
status codes, content types, body schemas."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from linkdesk.server.app import create_app
from linkdesk.server.crypto import KeyRing
from linkdesk.server.db import make_engine, migrate
from linkdesk.server.demo import seed_demo
from linkdesk.server.settings import ServerSettings

KEY = base64.b64encode(b"s" * 32).decode()


@pytest.fixture(scope="module")
def desk_schema(tmp_path_factory):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path_factory.mktemp('schema') / 'desk.db'}"
    migrate(url)
    engine = make_engine(url)
    seed_demo(engine, KeyRing.load(master_key=KEY), cases=60, borrowers=40, now=datetime(2026, 11, 1, tzinfo=UTC))
    engine.dispose()
    app = create_app(ServerSettings(database_url=url, master_key=KEY))
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("desk_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_own_contract(case):  # type: ignore[no-untyped-def]
    # A random string is a schema-valid cursor or case ref, and the desk rightly
    # refuses it (400/404): that is not a contract break.
    case.call_and_validate(excluded_checks=[checks.positive_data_acceptance])
