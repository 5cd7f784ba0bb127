"""ACS3-HMAC-SHA256 against the vector published in Alibaba Cloud's documentation.

The vector is the example request of the V3 signature pages (help.aliyun.com, "V3版本请求体&
签名机制" / "ROA风格请求体&签名机制"): ``POST`` RunInstances 2014-05-26 on
``ecs.cn-shanghai.aliyuncs.com`` with ``ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_
20230811.vhd&RegionId=cn-shanghai``, an empty body, ``x-acs-date: 2023-10-26T09:01:01Z``,
``x-acs-signature-nonce: d410180a5abf7fe235dd9b74aca91fc0``, the placeholder key
``YourAccessKeyId`` / ``YourAccessKeySecret``; the page's Authorization example carries
``Signature=e521358f…4804``.
"""

from __future__ import annotations

from linkdesk.intel.signing import canonical_query, sign_request

DOCUMENTED_SIGNATURE = "e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804"
EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def documented_request(**changes):
    values = {
        "access_key_id": "YourAccessKeyId",
        "access_key_secret": "YourAccessKeySecret",
        "method": "POST",
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "action": "RunInstances",
        "version": "2014-05-26",
        "params": {
            "RegionId": "cn-shanghai",
            "ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
        },
        "date": "2023-10-26T09:01:01Z",
        "nonce": "d410180a5abf7fe235dd9b74aca91fc0",
    }
    return sign_request(**(values | changes))


def test_signature_matches_the_documented_example():
    signed = documented_request()

    assert signed.headers["authorization"] == (
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
        "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;"
        "x-acs-signature-nonce;x-acs-version,"
        f"Signature={DOCUMENTED_SIGNATURE}"
    )
    assert signed.headers["x-acs-content-sha256"] == EMPTY_BODY_SHA256
    assert signed.query == (
        "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
    )


def test_any_signed_part_changes_the_signature():
    changed = [
        documented_request(access_key_secret="YourAccessKeySecreT"),
        documented_request(nonce="d410180a5abf7fe235dd9b74aca91fc1"),
        documented_request(date="2023-10-26T09:01:02Z"),
        documented_request(params={"RegionId": "cn-hangzhou"}),
        documented_request(method="GET"),
    ]

    for signed in changed:
        assert DOCUMENTED_SIGNATURE not in signed.headers["authorization"]


def test_query_is_sorted_and_encoded_as_rfc3986():
    query = canonical_query(
        {"b": "a b*c~", "a": "x/y+z", "StartTime": "2024-01-02 00:00:00", "Name": "张三"}
    )

    assert query == (
        "Name=%E5%BC%A0%E4%B8%89&StartTime=2024-01-02%2000%3A00%3A00&a=x%2Fy%2Bz&b=a%20b%2Ac~"
    )
