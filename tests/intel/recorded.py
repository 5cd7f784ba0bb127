"""Recorded responses (fixtures/*.json) turned into httpx responses for respx routes.

Each case is ``{"status": 200, "body": {...}}`` (JSON), or ``{"status": …, "text": "…"}``
for a body that is not JSON, with optional ``headers``.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).parent / "fixtures"


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def case(name: str, *keys: str) -> dict[str, Any]:
    """A deep copy of one recorded case, e.g. ``case("aliyun/dytnsapi.json", "errors",
    "OperatorLimit")``, so a test may adjust it."""
    node: Any = _load(name)
    for key in keys:
        node = node[key]
    return copy.deepcopy(node)


def response(recorded: dict[str, Any]) -> httpx.Response:
    headers = recorded.get("headers", {})
    if "text" in recorded:
        return httpx.Response(recorded["status"], text=recorded["text"], headers=headers)
    return httpx.Response(
        recorded["status"],
        content=json.dumps(recorded["body"], ensure_ascii=False).encode("utf-8"),
        headers={"content-type": "application/json;charset=utf-8", **headers},
    )
