"""The Dytnsapi adapter against recorded responses of the documented shapes (respx)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl

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
from linkdesk.intel.aliyun import ACTIONS, AliyunProvider, AliyunSettings
from linkdesk.intel.base import InvalidNumberForProvider
from linkdesk.intel.resilient import ResilientProvider

from .recorded import case, response

ENDPOINT = "https://dytnsapi.test"
KEY_ID = "LTAI-fake-key-id-for-tests"
SECRET = "fake-secret-for-tests-0123456789"
NUMBER, NATIONAL = "+8613812345678", "13812345678"
NOW = datetime(2024, 6, 1, 8, 30, 5, tzinfo=UTC)
REF = date(2023, 3, 15)
WHO = Identity(name="张三", id_number="11010519491231002x")
FIXTURE = "aliyun/dytnsapi.json"
UNKNOWN = {"reassigned": Reassigned.UNKNOWN, "tenure": Tenure.UNKNOWN,
           "line_status": LineStatus.UNKNOWN, "virtual": None, "identity": IdentityMatch.UNKNOWN}


def ok(action: str, **data) -> dict:
    recorded = case(FIXTURE, "operations", action, "ok")
    recorded["body"]["Data"].update(data)
    return recorded


def error(code: str) -> dict:
    return case(FIXTURE, "errors", code)


def malformed(name: str) -> dict:
    return case(FIXTURE, "malformed", name)


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def api():
    with respx.mock(base_url=ENDPOINT, assert_all_called=False) as router:
        yield router


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
async def make_provider(sleeps):
    made = []

    def make(checks=tuple(ACTIONS)) -> AliyunProvider:
        settings = AliyunSettings(
            access_key_id=KEY_ID,
            access_key_secret=SecretStr(SECRET),
            auth_codes={check: f"AC-{check}" for check in checks},
            endpoint=ENDPOINT,
        )
        nonces = (f"{n:032x}" for n in itertools.count(1))
        provider = AliyunProvider(settings, now=lambda: NOW, nonce=lambda: next(nonces),
                                  sleep=sleeps)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


def answer(api, action: str, *recorded: dict) -> respx.Route:
    route = api.post("/", headers={"x-acs-action": action})
    if len(recorded) == 1:
        return route.mock(return_value=response(recorded[0]))
    return route.mock(side_effect=[response(r) for r in recorded])


def answer_all(api, **instead: dict) -> dict[str, respx.Route]:
    """Every operation answers its recorded OK, except those named (by check)."""
    return {
        check: answer(api, action, instead.get(check) or ok(action))
        for check, action in ACTIONS.items()
    }


def params(route: respx.Route, index: int = -1) -> dict[str, str]:
    return dict(parse_qsl(route.calls[index].request.url.query.decode(), keep_blank_values=True))


# answers


async def test_a_full_check_maps_every_operation(api, make_provider):
    answer_all(api)

    report = await make_provider().check(NUMBER, reference_date=REF, identity=WHO)

    assert report.provider == "aliyun"
    assert report.checked_at == NOW and report.reference_date == REF
    assert report.reassigned is Reassigned.YES
    assert report.tenure is Tenure.M6_TO_12
    assert report.line_status is LineStatus.NORMAL
    assert report.virtual is False
    assert report.ported is True
    assert report.carrier == "China Mobile"
    assert report.region == "江苏 常州"
    assert report.identity is IdentityMatch.MATCH
    assert report.recent_port_or_swap is None
    assert report.unavailable == []


@pytest.mark.parametrize(
    ("verify_result", "expected"),
    [("0", Reassigned.UNKNOWN), ("1", Reassigned.YES), ("2", Reassigned.NO),
     ("3", Reassigned.CANCELLED), ("4", Reassigned.UNKNOWN), (1, Reassigned.YES)],
)
async def test_recycled_number_answer(api, make_provider, verify_result, expected):
    answer(api, ACTIONS["reassigned"], ok(ACTIONS["reassigned"], VerifyResult=verify_result))

    report = await make_provider(["reassigned"]).check(NUMBER, reference_date=REF)

    assert report.reassigned is expected
    assert report.unavailable == []


@pytest.mark.parametrize(
    ("verify_result", "expected"),
    [("-1", Tenure.UNKNOWN), ("0", Tenure.UNKNOWN), ("1", Tenure.UNDER_3M),
     ("2", Tenure.M3_TO_6), ("3", Tenure.M6_TO_12), ("4", Tenure.M12_TO_24),
     ("5", Tenure.OVER_24M)],
)
async def test_tenure_buckets(api, make_provider, verify_result, expected):
    answer(api, ACTIONS["tenure"], ok(ACTIONS["tenure"], VerifyResult=verify_result))

    report = await make_provider(["tenure"]).check(NUMBER, reference_date=REF)

    assert report.tenure is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [("NORMAL", LineStatus.NORMAL), ("SHUTDOWN", LineStatus.SHUT_DOWN),
     ("POWER_OFF", LineStatus.POWER_OFF), ("SUSPECTED_POWER_OFF", LineStatus.POWER_OFF),
     ("NOT_EXIST", LineStatus.EMPTY), ("BUSY", LineStatus.BUSY),
     ("DEFECT", LineStatus.ABNORMAL), ("UNKNOWN", LineStatus.UNKNOWN)],
)
async def test_real_time_status(api, make_provider, status, expected):
    answer(api, ACTIONS["line_status"], ok(ACTIONS["line_status"], Status=status, Carrier="CTCC"))

    report = await make_provider(["line_status"]).check(NUMBER, reference_date=REF)

    assert report.line_status is expected
    assert report.carrier == "China Telecom"


@pytest.mark.parametrize(("answer_value", "expected"), [(True, True), (False, False),
                                                        ("true", True)])
async def test_virtual_number(api, make_provider, answer_value, expected):
    answer(api, ACTIONS["virtual"], ok(ACTIONS["virtual"], IsPrivacyNumber=answer_value))

    report = await make_provider(["virtual"]).check(NUMBER, reference_date=REF)

    assert report.virtual is expected


@pytest.mark.parametrize(
    ("consistent", "expected"),
    [(1, IdentityMatch.MATCH), (0, IdentityMatch.MISMATCH), (2, IdentityMatch.NOT_FOUND),
     ("0", IdentityMatch.MISMATCH)],
)
async def test_three_elements(api, make_provider, consistent, expected):
    action = ACTIONS["identity"]
    answer(api, action, ok(action, IsConsistent=consistent))

    report = await make_provider(["identity"]).check(NUMBER, reference_date=REF, identity=WHO)

    assert report.identity is expected


async def test_the_operator_attribute_names_the_carrier_after_porting(api, make_provider):
    answer_all(api, carrier=ok(ACTIONS["carrier"], Carrier="中国联通", BasicCarrier="中国移动",
                               Province="北京", City="北京"))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.carrier == "China Unicom"  # not CMCC of the other operations
    assert report.region == "北京"


async def test_no_identity_means_no_three_element_check(api, make_provider):
    routes = answer_all(api)

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert not routes["identity"].called
    assert report.identity is None


# what goes on the wire


async def test_numbers_name_and_id_go_hashed(api, make_provider):
    routes = answer_all(api)

    await make_provider().check(NUMBER, reference_date=REF, identity=WHO)

    for route in routes.values():
        request = route.calls.last.request
        wire = str(request.url) + str(request.headers) + request.content.decode()
        assert NATIONAL not in wire and "张三" not in wire and "%E5%BC%A0" not in wire
        assert "11010519491231002" not in wire
        sent = params(route)
        assert sent["Mask"] == "SHA256"
        assert sent["InputNumber"] == hashlib.sha256(NATIONAL.encode()).hexdigest()
    identity = params(routes["identity"])
    assert identity["Name"] == hashlib.sha256("张三".encode()).hexdigest()
    assert identity["CertCode"] == hashlib.sha256(b"11010519491231002X").hexdigest()


async def test_each_operation_sends_its_auth_code_and_the_reference_date(api, make_provider):
    routes = answer_all(api)

    await make_provider().check(NUMBER, reference_date=REF, identity=WHO)

    for check, route in routes.items():
        assert params(route)["AuthCode"] == f"AC-{check}"
    assert params(routes["reassigned"])["StartTime"] == "2023-03-15 00:00:00"


async def test_each_request_is_signed_so_that_the_server_can_verify_it(api, make_provider):
    """Recompute the signature the way the gateway does, from the request as sent."""
    routes = answer_all(api)

    await make_provider().check(NUMBER, reference_date=REF)

    for check, route in routes.items():
        if check == "identity":
            continue
        request = route.calls.last.request
        assert request.method == "POST" and request.url.path == "/"
        assert request.headers["x-acs-action"] == ACTIONS[check]
        assert request.headers["x-acs-version"] == "2020-02-17"
        assert request.headers["x-acs-date"] == "2024-06-01T08:30:05Z"
        names = ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date",
                 "x-acs-signature-nonce", "x-acs-version"]
        query = request.url.query.decode()
        assert query == "&".join(sorted(query.split("&")))
        canonical = "\n".join([
            "POST",
            "/",
            query,
            "".join(f"{name}:{request.headers[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(request.content).hexdigest(),
        ])
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(SECRET.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        assert request.headers["authorization"] == (
            f"ACS3-HMAC-SHA256 Credential={KEY_ID},SignedHeaders={';'.join(names)},"
            f"Signature={expected}"
        )
    nonces = {route.calls.last.request.headers["x-acs-signature-nonce"]
              for route in routes.values() if route.called}
    assert len(nonces) == 5


# error codes


@pytest.mark.parametrize(
    ("check", "code", "reason"),
    [
        ("tenure", "PortabilityNumberNotSupported", "tenure: portability not supported"),
        ("reassigned", "PortabilityNumberNotSupported", "reassigned: portability not supported"),
        ("reassigned", "RequestNumberNotSupported",
         "reassigned: number not supported (Broadnet or MVNO)"),
        ("line_status", "OperatorLimit", "line_status: the carrier refuses queries on this number"),
        ("virtual", "AuthCodeNotExist",
         "virtual: AuthCode not recognised (check LINKDESK_ALIYUN_AUTH_CODES)"),
        ("identity", "CertCodeIllegal", "identity: the ID number was rejected as illegal"),
    ],
)
async def test_an_operation_error_leaves_its_fields_unknown(api, make_provider, check, code,
                                                            reason):
    answer_all(api, **{check: error(code)})

    report = await make_provider().check(NUMBER, reference_date=REF, identity=WHO)

    assert report.unavailable == [reason]
    assert getattr(report, check) == UNKNOWN[check]
    assert report.carrier == "China Mobile"  # the others answered


async def test_frequency_limit_on_one_operation_is_not_retried_now(api, make_provider, sleeps):
    routes = answer_all(api, line_status=error("RequestFrequencyLimit"))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.line_status is LineStatus.UNKNOWN
    assert report.unavailable == ["line_status: rate limited by the carrier, retry in 60 s"]
    assert routes["line_status"].call_count == 1 and sleeps == []


@pytest.mark.parametrize("code", ["RequestFrequencyLimit", "Throttling.User"])
async def test_frequency_limit_everywhere_asks_to_back_off(api, make_provider, code):
    answer_all(api, **{check: error(code) for check in ACTIONS})

    with pytest.raises(IntelUnavailable) as raised:
        await make_provider().check(NUMBER, reference_date=REF)

    assert raised.value.retry_after == 60.0
    assert "rate limited" in raised.value.reason


@pytest.mark.parametrize("code", ["MobileNumberIllegal", "MobileNumberTypeNotMatch"])
async def test_an_illegal_number_is_a_validation_error(api, make_provider, code):
    answer_all(api, tenure=error(code))

    with pytest.raises(InvalidNumberForProvider):
        await make_provider().check(NUMBER, reference_date=REF)


@pytest.mark.parametrize("e164", ["+14155550100", "+86105551234", "13812345678"])
async def test_a_number_outside_mainland_mobiles_is_refused_without_a_call(
    api, make_provider, e164
):
    routes = answer_all(api)

    with pytest.raises(InvalidNumberForProvider):
        await make_provider().check(e164, reference_date=REF)

    assert not any(route.called for route in routes.values())


async def test_a_system_error_is_retried_with_back_off(api, make_provider, sleeps):
    action = ACTIONS["tenure"]
    answer_all(api)
    route = answer(api, action, error("SystemError"), ok(action, VerifyResult="5"))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.tenure is Tenure.OVER_24M and report.unavailable == []
    assert route.call_count == 2 and sleeps == [0.5]


async def test_a_lasting_system_error_gives_up_after_three_tries(api, make_provider, sleeps):
    answer_all(api)
    route = answer(api, ACTIONS["tenure"], *[error("SystemError")] * 3)

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.tenure is Tenure.UNKNOWN
    assert report.unavailable == ["tenure: provider error (SystemError)"]
    assert route.call_count == 3 and sleeps == [0.5, 1.0]


async def test_number_not_found_is_no_data_rather_than_a_failure(api, make_provider):
    answer_all(api, carrier=error("PhoneNumberNotfound"))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.ported is None and report.region is None
    assert report.unavailable == []


@pytest.mark.parametrize("code", ["InvalidAccessKeyId.NotFound", "SignatureDoesNotMatch"])
async def test_a_refused_access_key_makes_the_provider_unavailable(api, make_provider, code):
    answer_all(api, **{check: error(code) for check in ("tenure",)})

    with pytest.raises(IntelUnavailable) as raised:
        await make_provider().check(NUMBER, reference_date=REF)

    assert raised.value.reason == f"access key refused ({code})"
    assert SECRET not in str(raised.value) and KEY_ID not in str(raised.value)


@pytest.mark.parametrize(
    ("failure", "reason"),
    [(httpx.ConnectError("refused"), "cannot reach dytnsapi.test (ConnectError)"),
     (httpx.ReadTimeout("slow"), "dytnsapi.test timed out")],
)
async def test_transport_errors_make_the_provider_unavailable(api, make_provider, failure,
                                                              reason):
    answer_all(api)
    api.post("/", headers={"x-acs-action": ACTIONS["virtual"]}).mock(side_effect=failure)

    with pytest.raises(IntelUnavailable) as raised:
        await make_provider().check(NUMBER, reference_date=REF)

    assert raised.value.provider == "aliyun" and raised.value.reason == reason


# malformed bodies


@pytest.mark.parametrize(
    "name",
    ["not_json", "ok_not_json", "not_an_object", "missing_data", "data_is_a_list",
     "verify_result_is_an_object", "verify_result_out_of_range", "code_is_a_number"],
)
async def test_a_malformed_answer_leaves_the_field_unknown(api, make_provider, name):
    answer_all(api, tenure=malformed(name))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.tenure is Tenure.UNKNOWN
    assert len(report.unavailable) == 1 and report.unavailable[0].startswith("tenure: ")
    assert report.line_status is LineStatus.NORMAL


async def test_wrong_types_in_data_leave_those_fields_unknown(api, make_provider):
    answer_all(api, line_status=malformed("status_is_a_number"),
               virtual=malformed("privacy_is_a_word"))

    report = await make_provider().check(NUMBER, reference_date=REF)

    assert report.line_status is LineStatus.UNKNOWN and report.virtual is None
    assert sorted(u.split(":")[0] for u in report.unavailable) == ["line_status", "virtual"]


async def test_when_nothing_answers_the_provider_is_unavailable(api, make_provider):
    answer_all(api, **{check: malformed("ok_not_json") for check in ACTIONS})

    with pytest.raises(IntelUnavailable) as raised:
        await make_provider().check(NUMBER, reference_date=REF, identity=WHO)

    assert raised.value.retry_after is None
    assert raised.value.reason.count("malformed response") == len(ACTIONS)


async def test_behind_the_wrapper_a_frequency_limit_holds_further_calls(api, make_provider):
    routes = answer_all(api, **{check: error("RequestFrequencyLimit") for check in ACTIONS})
    now = [0.0]
    provider = ResilientProvider(make_provider(), clock=lambda: now[0])

    with pytest.raises(IntelUnavailable):
        await provider.check(NUMBER, reference_date=REF)
    calls = sum(route.call_count for route in routes.values())
    now[0] += 59
    with pytest.raises(IntelUnavailable) as held:
        await provider.check(NUMBER, reference_date=REF)

    assert held.value.reason == "asked to back off, retry in 1 s"
    assert sum(route.call_count for route in routes.values()) == calls == 5
