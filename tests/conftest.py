"""Every test runs with its own config and data directories, never the user's."""

from __future__ import annotations

import os
import time

import pytest

# Times on screen are in the terminal's local zone; tests see one zone everywhere.
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture(autouse=True)
def private_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("LINKDESK_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("LINKDESK_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    for name in ("LINKDESK_DESK__MODE", "LINKDESK_DESK__URL", "LINKDESK_DESK__TOKEN", "LINKDESK_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return home
