"""Opaque keyset cursors: urlsafe base64 of JSON, tied to the query that made them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from linkdesk.server.errors import BadRequest


def fingerprint(params: dict[str, Any]) -> str:
    text = json.dumps(params, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(cursor: str, *, sort: str, filters: str) -> dict[str, Any]:
    """The cursor's payload; 400 when it is garbage or made for another sort or filter."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        raise BadRequest("the cursor is not one this desk made") from None
    if not isinstance(payload, dict) or "i" not in payload or not isinstance(payload["i"], int):
        raise BadRequest("the cursor is not one this desk made")
    if payload.get("s") != sort or payload.get("f") != filters:
        raise BadRequest("the cursor was made for another sort or filter; start from the first page")
    return payload
