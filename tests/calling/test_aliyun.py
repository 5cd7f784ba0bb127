"""The Dyplsapi (号码隐私保护) adapter: BindAxb and UnbindSubscription against answers of
the documented shapes (respx), signing, error codes, and the sandbox and the registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from pydantic import SecretStr

from linkdesk.calling.aliyun import API_VERSION, AliyunCallingProvider, AliyunCallingSettings
from linkdesk.calling.base import CallingError, SubscriptionGone
from linkdesk.calling.registry import UnconfiguredCallingProvider, build_calling_provider
from linkdesk.calling.sandbox import SandboxCallingProvider
from linkdesk.intel.signing import sign_request

ENDPOINT = "https://dyplsapi.test"
KEY_ID = "LTAI-fake-key-id-for-tests"
SECRET = "fake-secret-for-tests-0123456789"
NOW = datetime(2026, 11, 2, 9, 30, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(minutes=30)
AGENT, BORROWER = "+8613900001111", "+8613812345678"
BOUND = {  # BindAxb's documented answer: Code, Message, RequestId, SecretBindDTO
    "Code": "OK", "Message": "OK", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
    "SecretBindDTO": {"SecretNo": "17100005678", "SubsId": "1000000012345678", "Extension": "130"},
}


def provider() -> AliyunCallingProvider:
    settings = AliyunCallingSettings(access_key_id=KEY_ID, access_key_secret=SecretStr(SECRET),
                                     pool_key="FC100000012345678", endpoint=ENDPOINT)
    return AliyunCallingProvider(settings, now=lambda: NOW, nonce=lambda: "nonce-1")


@respx.mock
async def test_bind_axb_sends_the_signed_rpc_call_and_reads_secret_bind_dto() -> None:
    route = respx.post(f"{ENDPOINT}/").mock(return_value=httpx.Response(200, json=BOUND))
    bound = await provider().bind_axb(AGENT, BORROWER, expires_at=EXPIRES)
    assert (bound.secret_no, bound.subscription_id, bound.expires_at) == ("+8617100005678", "1000000012345678", EXPIRES)
    request = route.calls.last.request
    params = dict(parse_qsl(request.url.query.decode()))
    assert params == {"PoolKey": "FC100000012345678", "PhoneNoA": "13900001111", "PhoneNoB": "13812345678",
                      "Expiration": "2026-11-02 18:00:00"}  # Beijing time
    assert request.headers["x-acs-action"] == "BindAxb" and request.headers["x-acs-version"] == API_VERSION
    expected = sign_request(access_key_id=KEY_ID, access_key_secret=SECRET, method="POST", host="dyplsapi.test",
                            action="BindAxb", version=API_VERSION, params=params, date="2026-11-02T09:30:00Z",
                            nonce="nonce-1")
    assert request.headers["authorization"] == expected.headers["authorization"]
    assert SECRET not in str(request.url) and SECRET not in str(request.headers)


@respx.mock
async def test_unbind_subscription() -> None:
    route = respx.post(f"{ENDPOINT}/").mock(return_value=httpx.Response(
        200, json={"Code": "OK", "Message": "OK", "RequestId": "A1B2"}))
    await provider().unbind("1000000012345678", "+8617100005678")
    request = route.calls.last.request
    assert request.headers["x-acs-action"] == "UnbindSubscription"
    assert dict(parse_qsl(request.url.query.decode())) == {
        "PoolKey": "FC100000012345678", "SubsId": "1000000012345678", "SecretNo": "17100005678"}


@pytest.mark.parametrize(("code", "words"), [
    ("isv.NO_AVAILABLE_NUMBER", "no privacy number is free"),
    ("isv.EXPIRE_DATE_ILLEGAL", "expiry was refused"),
    ("isv.BIND_CONFLICT", "already bound"),
    ("isv.FLOW_LIMIT", "rate limited"),
    ("InvalidAccessKeyId.NotFound", "access key refused"),
])
@respx.mock
async def test_error_codes_become_calling_errors_without_secrets(code: str, words: str) -> None:
    respx.post(f"{ENDPOINT}/").mock(return_value=httpx.Response(
        400 if code.startswith("Invalid") else 200, json={"Code": code, "Message": "…", "RequestId": "X"}))
    with pytest.raises(CallingError) as failed:
        await provider().bind_axb(AGENT, BORROWER, expires_at=EXPIRES)
    assert failed.value.code == code and words in str(failed.value)
    assert SECRET not in str(failed.value) and "13812345678" not in str(failed.value)


@respx.mock
async def test_an_unknown_subscription_is_gone_and_transport_failures_are_errors() -> None:
    respx.post(f"{ENDPOINT}/").mock(side_effect=[
        httpx.Response(200, json={"Code": "isv.NO_NOT_EXIST", "Message": "号码不存在", "RequestId": "X"}),
        httpx.ConnectError("refused"),
        httpx.Response(502, text="<html>bad gateway</html>"),
        httpx.Response(200, json={"Code": "OK", "RequestId": "X"}),
    ])
    client = provider()
    with pytest.raises(SubscriptionGone):
        await client.unbind("1", "+8617100005678")
    with pytest.raises(CallingError, match="cannot reach dyplsapi.test"):
        await client.unbind("1", "+8617100005678")
    with pytest.raises(CallingError, match="malformed answer"):
        await client.unbind("1", "+8617100005678")
    with pytest.raises(CallingError, match="no SecretBindDTO"):
        await client.bind_axb(AGENT, BORROWER, expires_at=EXPIRES)
    with pytest.raises(CallingError) as foreign:  # refused before anything is sent
        await client.bind_axb(AGENT, "+14155550100", expires_at=EXPIRES)
    assert foreign.value.code == "isv.MOBILE_NUMBER_ILLEGAL"


async def test_sandbox_is_deterministic_in_its_test_range_and_enforces_expiry() -> None:
    clock = [NOW]
    sandbox = SandboxCallingProvider(clock=lambda: clock[0])
    one = await sandbox.bind_axb(AGENT, BORROWER, expires_at=EXPIRES)
    assert one == await sandbox.bind_axb(AGENT, BORROWER, expires_at=EXPIRES)
    assert one.secret_no.startswith("+861700000") and len(one.secret_no) == 14
    with pytest.raises(CallingError) as soon:
        await sandbox.bind_axb(AGENT, BORROWER, expires_at=NOW + timedelta(seconds=30))
    assert soon.value.code == "isv.EXPIRE_DATE_ILLEGAL"
    await sandbox.unbind(one.subscription_id, one.secret_no)
    with pytest.raises(SubscriptionGone):
        await sandbox.unbind(one.subscription_id, "+8617000009999")  # not the number it gave
    clock[0] = EXPIRES
    with pytest.raises(SubscriptionGone, match="expired"):
        await sandbox.unbind(one.subscription_id, one.secret_no)


def test_registry_reads_the_environment_and_never_leaks_credentials() -> None:
    assert isinstance(build_calling_provider(environ={}), SandboxCallingProvider)
    missing = build_calling_provider(environ={"LINKDESK_CALLING_PROVIDER": "aliyun",
                                              "LINKDESK_ALIYUN_ACCESS_KEY_SECRET": SECRET})
    assert isinstance(missing, UnconfiguredCallingProvider)
    assert "LINKDESK_ALIYUN_PLS_POOL_KEY" in missing.reason and SECRET not in missing.reason
    configured = build_calling_provider(environ={
        "LINKDESK_CALLING_PROVIDER": "aliyun", "LINKDESK_ALIYUN_ACCESS_KEY_ID": KEY_ID,
        "LINKDESK_ALIYUN_ACCESS_KEY_SECRET": SECRET, "LINKDESK_ALIYUN_PLS_POOL_KEY": "FC1"})
    assert isinstance(configured, AliyunCallingProvider) and SECRET not in repr(configured)
    assert isinstance(build_calling_provider(environ={"LINKDESK_CALLING_PROVIDER": "nope"}),
                      UnconfiguredCallingProvider)
