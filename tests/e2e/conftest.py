from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    delay = 0.02
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(delay)  # polling interval while waiting for the condition, not a fixed wait
        delay = min(delay * 1.5, 0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def linkdesk_cmd():
    return [sys.executable, "-m", "linkdesk"]


@pytest.fixture
def run_env(tmp_path):
    env = dict(os.environ)
    env.update(
        LINKDESK_DATA_DIR=str(tmp_path / "data"),
        LINKDESK_CONFIG_DIR=str(tmp_path / "config"),
        TERM="xterm-256color",
        LANG="C.UTF-8",
    )
    return env


@pytest.fixture
def started():
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
