"""Alibaba Cloud request signing, version 3 (``ACS3-HMAC-SHA256``).

The scheme, as the V3 "request structure and signature" documentation gives it::

    CanonicalRequest = METHOD \\n CanonicalURI \\n CanonicalQueryString \\n
                       CanonicalHeaders \\n SignedHeaders \\n HashedRequestPayload
    StringToSign     = "ACS3-HMAC-SHA256" \\n hex(SHA256(CanonicalRequest))
    Signature        = hex(HMAC-SHA256(AccessKeySecret, StringToSign))
    Authorization    = ACS3-HMAC-SHA256 Credential=<AccessKeyId>,
                       SignedHeaders=<names>,Signature=<Signature>

Pure functions, no I/O: the adapter decides the date and the nonce, so a test can
replay the documentation's worked example.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba wants it: only ``A-Za-z0-9-_.~`` stay as they are
    (a space is ``%20``, never ``+``; ``*`` is ``%2A``)."""
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    """``k=v`` pairs, both encoded, sorted by encoded name, joined with ``&``."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in params.items())
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    hashed_payload: str,
) -> tuple[str, str]:
    """Return ``(canonical request, signed header names)`` for the given headers, which
    are all signed (lower-cased names, trimmed values, sorted by name)."""
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    names = sorted(lowered)
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
    signed = ";".join(names)
    request = "\n".join(
        [method.upper(), path or "/", query, canonical_headers, signed, hashed_payload]
    )
    return request, signed


def string_to_sign(request: str) -> str:
    return f"{ALGORITHM}\n{hashlib.sha256(request.encode()).hexdigest()}"


def signature(secret: str, to_sign: str) -> str:
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedRequest:
    """What to send: the encoded query string and the headers, ``Authorization`` too."""

    query: str
    headers: dict[str, str] = field(repr=False)


def sign_request(
    *,
    access_key_id: str,
    access_key_secret: str,
    method: str,
    host: str,
    action: str,
    version: str,
    params: Mapping[str, str],
    date: str,
    nonce: str,
    body: bytes = b"",
) -> SignedRequest:
    """Sign an RPC-style call whose parameters travel in the query string.

    ``date`` is UTC ``yyyy-MM-ddTHH:mm:ssZ``; ``nonce`` must differ on every request."""
    payload_hash = hashlib.sha256(body).hexdigest()
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-content-sha256": payload_hash,
        "x-acs-date": date,
        "x-acs-signature-nonce": nonce,
        "x-acs-version": version,
    }
    query = canonical_query(params)
    request, signed = canonical_request(method, "/", query, headers, payload_hash)
    sig = signature(access_key_secret, string_to_sign(request))
    headers["authorization"] = (
        f"{ALGORITHM} Credential={access_key_id},SignedHeaders={signed},Signature={sig}"
    )
    return SignedRequest(query=query, headers=headers)


# -- what every Alibaba Cloud adapter signs with (intel, calling) ------------------------

class AliyunAccess(BaseModel):
    """An AccessKey pair and one product's endpoint. Adapters subclass it, giving their
    endpoint a default and adding their own settings; the secret never shows in a repr."""

    model_config = ConfigDict(frozen=True)

    access_key_id: str
    access_key_secret: SecretStr
    endpoint: str
    timeout: float = 5.0
    """Seconds, for each HTTP call (connect, write, read, pool)."""

    @field_validator("endpoint")
    @classmethod
    def _with_scheme(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        return value if "://" in value else f"https://{value}"


def env_values(
    env: Mapping[str, str], required: Mapping[str, str], optional: Mapping[str, str], what: str
) -> dict[str, str]:
    """Settings from the environment, field → variable: the required ones (a ``ValueError``
    naming every one that is missing or blank) and those of the optional ones that are set."""
    missing = [name for name in required.values() if not env.get(name, "").strip()]
    if missing:
        raise ValueError(f"{what} is not configured: set {', '.join(missing)}")
    chosen = {**required, **{k: v for k, v in optional.items() if env.get(v, "").strip()}}
    return {field_name: env[name].strip() for field_name, name in chosen.items()}
