"""SMS providers: the Aliyun Dysmsapi adapter against recorded answers (respx), and the
registry's choice (the sandbox by default; a real provider that is not configured
fails each send with the reason)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from linkdesk.sms.aliyun import AliyunSms, recipient
from linkdesk.sms.base import SmsUnavailable
from linkdesk.sms.registry import UnconfiguredSms, build_sms_provider

ENDPOINT = "https://dysmsapi.aliyuncs.com/"
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def provider() -> AliyunSms:
    return AliyunSms(access_key_id="AKID", access_key_secret="secret", sign_name="灵犀服务台",
                     template="SMS_123456789", now=lambda: NOW, nonce=lambda: "n-1")


@respx.mock
async def test_send_signs_a_sendsms_call_with_the_template_parameters() -> None:
    route = respx.post(url__startswith=ENDPOINT).mock(
        return_value=httpx.Response(200, json={"Code": "OK", "Message": "OK", "BizId": "9876^0", "RequestId": "r"}))
    sms = provider()
    receipt = await sms.send("+8613912345678", "【LinkDesk】验证码 654321", params={"code": "654321"})
    await sms.aclose()
    assert receipt.provider == "aliyun" and receipt.message_id == "9876^0"
    request = route.calls.last.request
    query = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
    assert query["PhoneNumbers"] == "13912345678" and query["TemplateCode"] == "SMS_123456789"
    assert query["SignName"] == "灵犀服务台" and json.loads(query["TemplateParam"]) == {"code": "654321"}
    assert request.headers["x-acs-action"] == "SendSms" and request.headers["x-acs-version"] == "2017-05-25"
    assert request.headers["authorization"].startswith("ACS3-HMAC-SHA256 Credential=AKID,")


@respx.mock
@pytest.mark.parametrize(("answer", "words"), [
    ({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发号码天级流控Permits:10"}, "sending limit"),
    ({"Code": "InvalidAccessKeyId.NotFound", "Message": "x"}, "access key refused"),
    ({"Code": "isv.SOMETHING_NEW"}, "error isv.SOMETHING_NEW"),
    ({"unexpected": True}, "unexpected answer"),
])
async def test_refusals_become_unavailable_with_a_reason_and_no_number(answer: dict, words: str) -> None:
    respx.post(url__startswith=ENDPOINT).mock(return_value=httpx.Response(200, json=answer))
    sms = provider()
    with pytest.raises(SmsUnavailable) as refused:
        await sms.send("+8613912345678", "text", params={"code": "1"})
    await sms.aclose()
    assert words in refused.value.reason and "13912345678" not in str(refused.value)


def test_recipient_form() -> None:
    assert recipient("+8613912345678") == "13912345678"
    assert recipient("+85251234567") == "0085251234567"


async def test_registry_defaults_to_the_sandbox_and_names_what_aliyun_lacks() -> None:
    assert type(build_sms_provider(None, None, environ={})).__name__ == "SandboxSms"  # type: ignore[arg-type]
    unconfigured = build_sms_provider(None, None, environ={"LINKDESK_SMS_PROVIDER": "aliyun"})  # type: ignore[arg-type]
    assert isinstance(unconfigured, UnconfiguredSms)
    with pytest.raises(SmsUnavailable) as refused:
        await unconfigured.send("+8613912345678", "text")
    assert "LINKDESK_ALIYUN_SMS_SIGN_NAME" in refused.value.reason
    with pytest.raises(ValueError, match="unknown SMS provider"):
        build_sms_provider(None, None, name="carrier-pigeon")  # type: ignore[arg-type]
