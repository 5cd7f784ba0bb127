"""Reaching the embedded desk: the local desk service on a Unix socket.

With no server configured, the desk is a small HTTP service that this module starts
on demand (``python -m linkdesk desk-service``) and that keeps running for a while
after the last request, so the next ``linkdesk`` finds it warm and the console
never loads the server stack (FastAPI, SQLAlchemy) on its way to the first frame.
The socket sits in a directory only the user can enter, which is the desk's
authentication: requests run as the local agent.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from linkdesk import __version__
from linkdesk.client.errors import DeskStartRefused, DeskUnavailable

START_TIMEOUT = 120.0  # a first start creates, migrates and (for the demo) seeds the desk
IDLE_TIMEOUT = 30 * 60.0
LOCAL_BASE_URL = "http://local-desk"
VERSION_HEADER = "linkdesk-version"  # set on every answer by the desk (server.app)
START_ERROR_FILE = "service.error"  # why the service refused to start (server.runner)


def runtime_dir() -> Path:
    """A private directory for sockets, short enough for the 108-byte socket path limit."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    path = Path(base) / f"linkdesk-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    info = path.lstat()
    if info.st_uid != os.getuid() or not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o077:
        raise DeskUnavailable(f"{path} is not a private directory of this user; refusing to use it")
    return path


def socket_path(desk_dir: Path) -> Path:
    digest = hashlib.sha256(str(desk_dir.resolve()).encode()).hexdigest()[:16]
    return runtime_dir() / f"{digest}.sock"


class LocalDesk:
    """The local desk service of one desk directory: find it, or start it."""

    def __init__(self, desk_dir: Path, *, demo: bool = False, idle_timeout: float = IDLE_TIMEOUT):
        self.desk_dir = desk_dir
        self.demo = demo
        self.idle_timeout = idle_timeout
        self.socket = socket_path(desk_dir)
        self.log_file = desk_dir / "service.log"
        self.start_error_file = desk_dir / START_ERROR_FILE

    def command(self) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "linkdesk",
            "desk-service",
            "--desk-dir",
            str(self.desk_dir),
            "--socket",
            str(self.socket),
            "--idle-timeout",
            str(self.idle_timeout),
        ]
        return command + (["--demo"] if self.demo else [])

    def answering(self) -> bool:
        """True when a service of this version answers on the socket."""
        if not self.socket.exists():
            return False
        try:
            with httpx.Client(
                transport=httpx.HTTPTransport(uds=str(self.socket), verify=False), timeout=2.0
            ) as http:
                health = http.get(LOCAL_BASE_URL + "/api/v1/health").json()
        except (httpx.HTTPError, ValueError):
            return False
        if health.get("version") != __version__:
            self.stop()
            return False
        return True

    def ensure_running(self, timeout: float = START_TIMEOUT) -> None:
        """Start the service unless it already answers; wait until it does."""
        if self.answering():
            return
        self.desk_dir.mkdir(parents=True, exist_ok=True)
        with open(self.desk_dir / "service.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one starter at a time per desk
            if self.answering():
                return
            self.socket.unlink(missing_ok=True)
            self.start_error_file.unlink(missing_ok=True)
            with open(self.log_file, "ab") as log:
                process = subprocess.Popen(
                    self.command(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                    close_fds=True,
                )
            deadline = time.monotonic() + timeout
            delay = 0.02
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    refused = self._start_error()
                    if refused:
                        raise DeskStartRefused(refused)
                    raise DeskUnavailable(
                        f"the local desk service stopped at start (exit {process.returncode}); "
                        f"see {self.log_file}:\n{self._log_tail()}"
                    )
                if self.answering():
                    return
                time.sleep(delay)
                delay = min(delay * 1.5, 0.25)
            raise DeskUnavailable(f"the local desk service did not answer within {timeout:.0f} s")

    def stop(self) -> bool:
        """Ask a running service to stop (SIGTERM through its pid file)."""
        pid_file = self.desk_dir / "service.pid"
        try:
            info = json.loads(pid_file.read_text())
            os.kill(int(info["pid"]), 15)
        except (OSError, ValueError, KeyError):
            return False
        # Wait for the process, not the socket: uvicorn re-raises the SIGTERM it caught
        # once it has shut down, which ends the process before its own clean-up runs.
        pid = int(info["pid"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if not _alive(pid):
            self.socket.unlink(missing_ok=True)
            pid_file.unlink(missing_ok=True)
        return True

    def _start_error(self) -> str | None:
        """The reason the service gave for refusing to start (a wrong or missing key)."""
        try:
            return self.start_error_file.read_text(encoding="utf-8", errors="replace").strip() or None
        except OSError:
            return None

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class LocalDeskTransport(httpx.AsyncBaseTransport):
    """An httpx transport that starts the local desk service when it is not there.

    The first request goes straight to the socket: a warm service answers it at once,
    and only a refused connection costs a start. An answer from a service of another
    LinkDesk version stops that service, so the next request starts this version's.
    """

    def __init__(self, desk: LocalDesk) -> None:
        self.desk = desk
        # no TLS on a Unix socket: skip building an SSL context (and reading CA files)
        self._inner = httpx.AsyncHTTPTransport(uds=str(desk.socket), verify=False)
        self._checked_version = False
        self._lock = asyncio.Lock()
        self._refused: DeskStartRefused | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.ConnectError:
            # not started yet, gone idle, or restarted: bring it up once and retry
            await self._start()
            response = await self._inner.handle_async_request(request)
        if not self._checked_version:
            self._checked_version = True
            if response.headers.get(VERSION_HEADER) not in (None, __version__):
                await asyncio.to_thread(self.desk.stop)
        return response

    async def _start(self) -> None:
        async with self._lock:
            if self._refused is not None:  # its cause (the key) needs a person: no new attempts
                raise DeskStartRefused(str(self._refused))
            try:
                await asyncio.to_thread(self.desk.ensure_running)
            except DeskStartRefused as exc:
                self._refused = exc
                raise

    async def aclose(self) -> None:
        await self._inner.aclose()


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a child of ours that exited is reaped, not counted)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
