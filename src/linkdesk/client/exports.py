"""Writing a borrower's export (decrypted personal data) to a file: owner-only, never
over an existing file, in the data directory's ``exports/`` unless told otherwise."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def default_export_path(data_dir: Path, ref: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return data_dir / "exports" / f"{_SAFE.sub('_', ref)}-{stamp}.json"


def write_export(document: dict[str, Any], path: Path) -> Path:
    """Write ``document`` as JSON to ``path`` with mode 0600 (its folder 0700 if made);
    raises FileExistsError rather than replace a file."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    os.chmod(path, 0o600)
    return path.resolve()
