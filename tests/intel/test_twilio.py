"""The Twilio Lookup v2 adapter against recorded responses of the documented shapes."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

import httpx
import pytest
import respx
from pydantic import SecretStr

from linkdesk.domain.intel import (
    Identity,
    IdentityMatch,
    IntelUnavailable,
    LineStatus,
    Reassigned,
    Tenure,
)
from linkdesk.intel.base import InvalidNumberForProvider
from linkdesk.intel.twilio import TwilioProvider, TwilioSettings

from .recorded import case, response

BASE_URL = "https://lookups.twilio.test"
ACCOUNT_SID = "ACfake00000000000000000000000000"
AUTH_TOKEN = "fake-twilio-token-for-tests"
NUMBER = "+14155550100"
NOW = datetime(2024, 6, 1, 8, 30, tzinfo=UTC)
REF = date(2024, 1, 15)
WHO = Identity(name="John Q Doe", id_number="YZ3456883")
FIXTURE = "twilio/lookup_v2.json"
PATH = "/v2/PhoneNumbers/%2B14155550100"


def recorded(name: str) -> dict:
    return case(FIXTURE, name)


def with_package(name: str, package: str, **values) -> dict:
    answer = recorded(name)
    answer["body"][package].update(values)
    return answer


@pytest.fixture
def api():
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def make_provider():
    made = []

    def make(**settings) -> TwilioProvider:
        values = {"account_sid": ACCOUNT_SID, "auth_token": SecretStr(AUTH_TOKEN),
                      "base_url": BASE_URL} | settings
        provider = TwilioProvider(TwilioSettings(**values), now=lambda: NOW)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


def answer(api, recorded_answer: dict) -> respx.Route:
    return api.get(PATH).mock(return_value=response(recorded_answer))


# answers


async def test_a_full_lookup_maps_every_package(api, make_provider):
    answer(api, recorded("full"))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.provider == "twilio" and report.checked_at == NOW
    assert report.reference_date == REF
    assert report.virtual is False
    assert report.carrier == "Example Wireless"
    assert report.region == "US"
    assert report.line_status is LineStatus.NORMAL
    assert report.recent_port_or_swap is True
    assert report.reassigned is Reassigned.NO
    assert report.tenure is Tenure.UNKNOWN and report.ported is None
    assert report.identity is None
    assert report.unavailable == []


async def test_the_request_asks_the_packages_with_the_reference_date(api, make_provider):
    route = answer(api, recorded("full"))

    await make_provider().check(NUMBER, reference_date=REF)

    sent = route.calls.last.request.url.params
    assert sent["Fields"] == "line_type_intelligence,line_status,sim_swap,reassigned_number"
    assert sent["LastVerifiedDate"] == "20240115"
    assert "NationalId" not in sent and "FirstName" not in sent


async def test_basic_auth_carries_the_account_sid_and_token(api, make_provider):
    route = answer(api, recorded("full"))

    await make_provider().check(NUMBER, reference_date=REF)

    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert route.calls.last.request.headers["authorization"] == f"Basic {expected}"


async def test_an_api_key_is_preferred_to_the_auth_token(api, make_provider):
    route = answer(api, recorded("full"))

    await make_provider(api_key_sid="SKfake0000", api_key_secret=SecretStr("fake-key-secret")
                        ).check(NUMBER, reference_date=REF)

    expected = base64.b64encode(b"SKfake0000:fake-key-secret").decode()
    assert route.calls.last.request.headers["authorization"] == f"Basic {expected}"


@pytest.mark.parametrize(
    ("line_type", "virtual"),
    [("nonFixedVoip", True), ("mobile", False), ("fixedVoip", False), ("landline", False),
     ("unknown", None), (None, None), ("somethingNew", None)],
)
async def test_line_type(api, make_provider, line_type, virtual):
    answer(api, with_package("full", "line_type_intelligence", type=line_type))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.virtual is virtual


@pytest.mark.parametrize(
    ("status", "expected"),
    [("active", LineStatus.NORMAL), ("reachable", LineStatus.NORMAL),
     ("unreachable", LineStatus.POWER_OFF), ("inactive", LineStatus.EMPTY),
     ("unknown", LineStatus.UNKNOWN)],
)
async def test_line_status(api, make_provider, status, expected):
    answer(api, with_package("full", "line_status", status=status))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.line_status is expected


@pytest.mark.parametrize(
    ("answer_value", "expected"),
    [("yes", Reassigned.YES), ("no", Reassigned.NO), ("no_data_available", Reassigned.UNKNOWN)],
)
async def test_reassigned_number(api, make_provider, answer_value, expected):
    answer(api, with_package("full", "reassigned_number", is_number_reassigned=answer_value))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.reassigned is expected


@pytest.mark.parametrize(
    ("last_sim_swap", "expected"),
    [({"last_sim_swap_date": None, "swapped_period": "PT24H", "swapped_in_period": False}, False),
     ({"last_sim_swap_date": "2024-05-01T10:00:00Z", "swapped_period": "PT24H",
       "swapped_in_period": True}, True),
     (None, None)],
)
async def test_sim_swap(api, make_provider, last_sim_swap, expected):
    answer(api, with_package("full", "sim_swap", last_sim_swap=last_sim_swap))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.recent_port_or_swap is expected


async def test_identity_match_sends_the_identity_and_maps_the_answer(api, make_provider):
    route = answer(api, recorded("with_identity"))

    report = await make_provider().check(NUMBER, reference_date=REF, identity=WHO)

    sent = route.calls.last.request.url.params
    assert sent["Fields"].split(",")[-1] == "identity_match"
    assert (sent["FirstName"], sent["LastName"], sent["NationalId"]) == (
        "John Q", "Doe", "YZ3456883")
    assert report.identity is IdentityMatch.MATCH


@pytest.mark.parametrize(
    ("first", "last", "national_id", "expected"),
    [("exact_match", "exact_match", "no_match", IdentityMatch.MISMATCH),
     ("no_match", "exact_match", "exact_match", IdentityMatch.MISMATCH),
     ("no_data_available", "no_data_available", "no_data_available", IdentityMatch.NOT_FOUND),
     ("exact_match", "partial_match", "exact_match", IdentityMatch.UNKNOWN),
     ("exact_match", "exact_match", "no_data_available", IdentityMatch.UNKNOWN),
     (None, None, None, IdentityMatch.UNKNOWN)],
)
async def test_identity_match_values(api, make_provider, first, last, national_id, expected):
    answer(api, with_package("with_identity", "identity_match", first_name_match=first,
                             last_name_match=last, national_id_match=national_id))

    report = await make_provider().check(NUMBER, reference_date=REF, identity=WHO)

    assert report.identity is expected


async def test_a_one_word_name_goes_as_the_last_name(api, make_provider):
    route = answer(api, with_package("with_identity", "identity_match", first_name_match=None))

    report = await make_provider().check(
        NUMBER, reference_date=REF, identity=Identity(name="张三", id_number="YZ1")
    )

    sent = route.calls.last.request.url.params
    assert sent["LastName"] == "张三" and "FirstName" not in sent
    assert report.identity is IdentityMatch.MATCH  # first_name_match is not ours to read


# errors


async def test_a_package_error_leaves_its_fields_unknown(api, make_provider):
    answer(api, recorded("package_errors"))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.virtual is None and report.reassigned is Reassigned.UNKNOWN
    assert report.unavailable == [
        "virtual: Lookup authorization required (60601)",
        "reassigned: country not supported (60607)",
    ]
    assert report.line_status is LineStatus.NORMAL
    assert report.carrier == "Example Wireless"  # from the SIM-swap package


async def test_when_every_package_fails_the_provider_is_unavailable(api, make_provider):
    answer(api, recorded("all_packages_fail"))

    with pytest.raises(IntelUnavailable) as raised:
        await make_provider().check(NUMBER, reference_date=REF)

    assert "package not enabled for the account (60606)" in raised.value.reason


async def test_a_requested_package_that_is_missing_is_named(api, make_provider):
    missing = recorded("full")
    missing["body"]["line_status"] = None
    answer(api, missing)

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.unavailable == ["line_status: not returned"]


async def test_an_invalid_number_is_a_validation_error(api, make_provider):
    answer(api, recorded("invalid_number"))

    with pytest.raises(InvalidNumberForProvider, match="TOO_SHORT"):
        await make_provider().check(NUMBER, reference_date=REF)


async def test_not_found_is_a_validation_error(api, make_provider):
    answer(api, recorded("not_found"))

    with pytest.raises(InvalidNumberForProvider, match="20404"):
        await make_provider().check(NUMBER, reference_date=REF)


async def test_refused_credentials_make_the_provider_unavailable(api, make_provider):
    answer(api, recorded("unauthorized"))

    with pytest.raises(IntelUnavailable) as raised:
        await make_provider().check(NUMBER, reference_date=REF)

    assert raised.value.reason == "credentials refused: authentication failed (20003)"
    assert raised.value.retry_after is None
    assert AUTH_TOKEN not in str(raised.value) and ACCOUNT_SID not in str(raised.value)


async def test_too_many_requests_asks_to_back_off_for_retry_after(api, make_provider):
    answer(api, recorded("too_many_requests"))

    with pytest.raises(IntelUnavailable) as raised:
        await make_provider().check(NUMBER, reference_date=REF)

    assert raised.value.retry_after == 12.0
    assert raised.value.reason == "too many requests (20429), retry in 12 s"


async def test_too_many_requests_without_retry_after_waits_the_default(api, make_provider):
    throttled = recorded("too_many_requests")
    del throttled["headers"]
    answer(api, throttled)

    with pytest.raises(IntelUnavailable) as raised:
        await make_provider().check(NUMBER, reference_date=REF)

    assert raised.value.retry_after == 30.0


@pytest.mark.parametrize("name", ["server_error", "not_json", "not_an_object"])
async def test_a_failed_or_malformed_answer_makes_the_provider_unavailable(
    api, make_provider, name
):
    answer(api, recorded(name))

    with pytest.raises(IntelUnavailable):
        await make_provider().check(NUMBER, reference_date=REF)


async def test_wrong_types_in_a_package_leave_its_fields_unknown(api, make_provider):
    answer(api, recorded("wrong_types"))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.line_status is LineStatus.UNKNOWN and report.recent_port_or_swap is None
    assert [u.split(":")[0] for u in report.unavailable] == ["line_status",
                                                             "recent_port_or_swap"]
    assert report.virtual is False  # line type answered


@pytest.mark.parametrize(
    ("failure", "reason"),
    [(httpx.ConnectError("refused"), "cannot reach Lookup (ConnectError)"),
     (httpx.ReadTimeout("slow"), "Lookup timed out")],
)
async def test_transport_errors_make_the_provider_unavailable(api, make_provider, failure,
                                                              reason):
    api.get(PATH).mock(side_effect=failure)

    with pytest.raises(IntelUnavailable) as raised:
        await make_provider().check(NUMBER, reference_date=REF)

    assert raised.value.reason == reason


@pytest.mark.parametrize("e164", ["14155550100", "+0123", "+1 415 555 0100"])
async def test_a_number_not_in_e164_is_refused_without_a_call(api, make_provider, e164):
    route = answer(api, recorded("full"))

    with pytest.raises(InvalidNumberForProvider):
        await make_provider().check(e164, reference_date=REF)

    assert not route.called


async def test_only_the_configured_packages_are_asked(api, make_provider):
    route = answer(api, recorded("full"))

    report = await make_provider(packages=("line_type_intelligence",)).check(
        NUMBER, reference_date=REF, identity=WHO
    )

    sent = route.calls.last.request.url.params
    assert sent["Fields"] == "line_type_intelligence"
    assert "LastVerifiedDate" not in sent and "NationalId" not in sent
    assert report.line_status is LineStatus.UNKNOWN and report.unavailable == []
