"""Provider settings: read from the environment, secrets never shown."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from linkdesk.intel.aliyun import AliyunProvider, AliyunSettings, parse_auth_codes
from linkdesk.intel.resilient import ResilientProvider
from linkdesk.intel.twilio import TwilioProvider, TwilioSettings

ALIYUN_SECRET = "fake-aliyun-secret-for-tests"
TWILIO_TOKEN = "fake-twilio-token-for-tests"
TWILIO_KEY_SECRET = "fake-twilio-key-secret-for-tests"

ALIYUN_ENV = {
    "LINKDESK_ALIYUN_ACCESS_KEY_ID": "LTAI-fake-id",
    "LINKDESK_ALIYUN_ACCESS_KEY_SECRET": ALIYUN_SECRET,
    "LINKDESK_ALIYUN_AUTH_CODES": "tenure=AC-T, PhoneNumberStatusForReal=AC-S",
}


def test_aliyun_settings_from_the_environment():
    settings = AliyunSettings.from_env(ALIYUN_ENV | {
        "LINKDESK_ALIYUN_ENDPOINT": "dytnsapi.example.test",
        "LINKDESK_ALIYUN_TIMEOUT": "2.5",
    })

    assert settings.access_key_id == "LTAI-fake-id"
    assert settings.access_key_secret.get_secret_value() == ALIYUN_SECRET
    assert settings.auth_codes == {"tenure": "AC-T", "line_status": "AC-S"}
    assert settings.endpoint == "https://dytnsapi.example.test"
    assert settings.timeout == 2.5


def test_aliyun_auth_codes_may_be_json():
    env = ALIYUN_ENV | {"LINKDESK_ALIYUN_AUTH_CODES":
                        '{"reassigned": "AC-R", "ThreeElementsVerification": "AC-3"}'}

    settings = AliyunSettings.from_env(env)

    assert settings.auth_codes == {"reassigned": "AC-R", "identity": "AC-3"}


def test_aliyun_reads_os_environ_by_default(monkeypatch):
    for name, value in ALIYUN_ENV.items():
        monkeypatch.setenv(name, value)

    assert AliyunSettings.from_env().auth_codes["tenure"] == "AC-T"


def test_missing_aliyun_variables_are_named():
    with pytest.raises(ValueError) as raised:
        AliyunSettings.from_env({"LINKDESK_ALIYUN_ACCESS_KEY_ID": "LTAI-fake-id"})

    assert "LINKDESK_ALIYUN_ACCESS_KEY_SECRET" in str(raised.value)
    assert "LINKDESK_ALIYUN_AUTH_CODES" in str(raised.value)


@pytest.mark.parametrize("codes", ["tenure", "bogus=AC-1", '{"tenure": ', "[1, 2]"])
def test_bad_aliyun_auth_codes_are_refused(codes):
    with pytest.raises(ValueError):
        AliyunSettings.from_env(ALIYUN_ENV | {"LINKDESK_ALIYUN_AUTH_CODES": codes})


def test_auth_codes_parse_both_forms():
    assert parse_auth_codes("a=1,b=2") == parse_auth_codes('{"a": "1", "b": 2}') == {
        "a": "1", "b": "2"}


def test_twilio_settings_from_the_environment():
    settings = TwilioSettings.from_env({
        "LINKDESK_TWILIO_ACCOUNT_SID": "ACfake",
        "LINKDESK_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "LINKDESK_TWILIO_PACKAGES": "line_type_intelligence, line_status",
        "LINKDESK_TWILIO_BASE_URL": "https://lookups.example.test",
    })

    assert settings.account_sid == "ACfake"
    assert settings.auth_token.get_secret_value() == TWILIO_TOKEN
    assert settings.packages == ("line_type_intelligence", "line_status")
    assert settings.base_url == "https://lookups.example.test"


def test_missing_twilio_variables_are_named():
    with pytest.raises(ValueError) as raised:
        TwilioSettings.from_env({"LINKDESK_TWILIO_ACCOUNT_SID": "ACfake"})

    assert "LINKDESK_TWILIO_AUTH_TOKEN" in str(raised.value)


def test_twilio_refuses_an_unknown_package():
    with pytest.raises(ValidationError):
        TwilioSettings(account_sid="ACfake", auth_token=SecretStr("x"), packages=("caller_nam",))


async def test_secrets_never_appear_in_reprs():
    aliyun = AliyunSettings.from_env(ALIYUN_ENV)
    twilio = TwilioSettings(account_sid="ACfake", auth_token=SecretStr(TWILIO_TOKEN),
                            api_key_sid="SKfake", api_key_secret=SecretStr(TWILIO_KEY_SECRET))
    providers = [AliyunProvider(aliyun), TwilioProvider(twilio)]
    try:
        shown = " ".join(
            [repr(aliyun), str(aliyun), repr(twilio), str(twilio),
             aliyun.model_dump_json(), twilio.model_dump_json()]
            + [repr(p) for p in providers] + [repr(ResilientProvider(p)) for p in providers]
        )
    finally:
        for provider in providers:
            await provider.aclose()

    for secret in (ALIYUN_SECRET, TWILIO_TOKEN, TWILIO_KEY_SECRET):
        assert secret not in shown
    assert "**********" in repr(aliyun)
    assert "AC-T" not in repr(aliyun)  # AuthCodes are no credentials, but stay out of logs


def test_a_validation_error_does_not_echo_the_secret():
    with pytest.raises(ValidationError) as raised:
        AliyunSettings.from_env(ALIYUN_ENV | {"LINKDESK_ALIYUN_TIMEOUT": "soon"})

    assert ALIYUN_SECRET not in str(raised.value)
