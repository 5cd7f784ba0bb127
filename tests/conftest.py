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


def pytest_sessionfinish(session, exitstatus):
    """Stop the desk services this run's tests started (they would idle for 30 minutes)."""
    import signal
    from pathlib import Path

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    try:
        base = str(factory.getbasetemp())
    except (OSError, ValueError):
        return
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv]
        if "desk-service" in args and any(a.startswith(base) for a in args):
            try:
                os.kill(int(proc.name), signal.SIGTERM)
            except OSError:
                pass
