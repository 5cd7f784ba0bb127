"""Policy files: a TOML table packaged with LinkDesk, which an installation overrides with
a file of its own merged over it table by table (risk weights, SLA targets, reply
templates). Reading a file happens when a desk or console starts, never per decision.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def packaged_table(name: str) -> dict[str, Any]:
    """``linkdesk/policies/<name>``, parsed."""
    return tomllib.loads(resources.files("linkdesk").joinpath(f"policies/{name}").read_text("utf-8"))


def read_table(path: Path, what: str, error: type[Exception]) -> dict[str, Any]:
    """An override file, or ``error`` saying why it cannot be had (``what``: "risk policy")."""
    try:
        with Path(path).open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {path} is not valid TOML: {exc}") from exc


def merge_tables(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: tables merge key by key, any other value replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


def validate(model: type[M], table: Mapping[str, Any], what: str, error: type[Exception]) -> M:
    """``table`` as ``model``, or ``error`` naming every bad key by its path
    (``priorities.high.resolution_hours: …``)."""
    try:
        return model.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or '(top level)'}: {problem['msg']}"
            for problem in exc.errors()
        )
        raise error(f"invalid {what}: {problems}") from exc


def label(policy: BaseModel, name: str, version: object) -> str:
    """``default/1#3f2a9c1e``: name, version and a digest of the content, so that what a
    policy decided records exactly which policy it was, even when an override file kept
    the default name."""
    content = json.dumps(policy.model_dump(mode="json"), sort_keys=True)
    return f"{name}/{version}#{hashlib.sha256(content.encode()).hexdigest()[:8]}"
