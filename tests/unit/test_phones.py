import phonenumbers
import pytest
from hypothesis import given, strategies as st

from linkdesk.domain.phones import InvalidPhoneNumber, last_four, mask, national_digits, normalise

MOBILE_PREFIXES = ["130", "135", "138", "139", "150", "158", "177", "186", "189", "199"]


@pytest.mark.parametrize(
    "raw",
    ["13812345678", "+86 138 1234 5678", "008613812345678", "138-1234-5678", " (+86) 13812345678 "],
)
def test_common_formats_normalise_to_e164(raw):
    assert normalise(raw) == "+8613812345678"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("abc", "not a phone number"),
        ("1381234567", "11 digits"),
        ("12345", "11 digits"),
        ("138123456789", "11 digits"),
        ("01012345678", "not a mobile number"),
        ("14012345678", "not an assigned number range"),
        ("9" * 40, "too long"),
    ],
)
def test_invalid_input_says_why(raw, reason):
    with pytest.raises(InvalidPhoneNumber) as err:
        normalise(raw)
    assert reason in err.value.reason
    assert isinstance(err.value, ValueError)


def test_mask_keeps_first_three_and_last_four():
    assert mask("+8613812341234") == "138****1234"
    assert last_four("+8613812345678") == "5678"


mobile_numbers = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(MOBILE_PREFIXES),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


@given(mobile_numbers)
def test_normalise_is_idempotent_and_masks_never_leak_the_middle(number):
    e164 = normalise(number)
    assert normalise(e164) == e164
    masked = mask(e164)
    assert masked == number[:3] + "****" + number[-4:]
    assert number[3:7] not in masked.replace("****", "")[3:] or number[3:7] in number[-4:] + number[:3]
    assert national_digits(e164) == number


@given(st.text(max_size=30))
def test_anything_either_normalises_to_a_valid_mobile_or_raises_invalid(raw):
    try:
        e164 = normalise(raw)
    except InvalidPhoneNumber:
        return
    parsed = phonenumbers.parse(e164, None)
    assert phonenumbers.is_valid_number(parsed)
