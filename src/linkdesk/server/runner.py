"""Running a desk: the local desk service (embedded desks) and ``linkdesk serve``.

The local desk service serves one desk folder on a Unix socket, the way the console
reaches an embedded desk without loading the server stack itself. It stops after a
stretch without requests, so it costs nothing while nobody uses LinkDesk.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from linkdesk.server.settings import ServerSettings

if TYPE_CHECKING:
    from linkdesk.server.crypto import KeyRing

DATABASE_FILE = "desk.db"
KEY_FILE = "master.key"
CHECKPOINT_DIR = "checkpoints"
SERVE_ENV_PREFIX = "LINKDESK_SERVE_"
START_ERROR_FILE = "service.error"  # read by linkdesk.client.local (which cannot import us)
START_REFUSED_EXIT = 78  # EX_CONFIG: the desk's configuration (its keys) is wrong


def embedded_settings(desk_dir: Path) -> ServerSettings:
    """An embedded desk is its folder. Audit checkpoints go to ``<desk folder>/checkpoints``:
    outside the database file, so rewriting the database (SQL, or a copied-in file) does
    not touch them, and signed with a key kept in the config directory, not here, so
    nothing in this folder can forge them. They live and die with the desk: a deleted desk
    takes its checkpoints along instead of leaving files that would contradict the next
    desk of that name. Only deleting them goes unnoticed, hence copies on other media."""
    return ServerSettings(
        database_url=f"sqlite:///{desk_dir / DATABASE_FILE}",
        key_file=desk_dir / KEY_FILE,
        local_agent=True,
        checkpoint_dir=desk_dir / CHECKPOINT_DIR,
    )


def prepare_desk(settings: ServerSettings, *, demo: bool = False) -> KeyRing:
    """Create or upgrade the database, check the keys against it (raises a
    :class:`~linkdesk.server.crypto.KeyringError` saying what is wrong, before anything
    is written with them); seed a demo desk that has no cases yet."""
    from linkdesk.server import keys
    from linkdesk.server.db import make_engine, migrate, refresh_statistics

    engine = make_engine(settings.database_url)
    try:
        migrate(engine=engine)
        keyring = keys.open_keyring(engine, settings)
        if demo:
            from linkdesk.server.demo import seed_demo_if_empty

            seed_demo_if_empty(engine, keyring, now=datetime.now(UTC))
        refresh_statistics(engine)
    finally:
        engine.dispose()
    return keyring


def run_local_service(
    desk_dir: Path, socket: Path, *, demo: bool, idle_timeout: float, options: dict[str, Any] | None = None
) -> None:
    """``options``: settings from the environment (providers, policy files), as ``serve``
    takes them."""
    from linkdesk.domain.risk_policy import RiskPolicyError
    from linkdesk.domain.sla_policy import SlaPolicyError
    from linkdesk.server.app import create_app
    from linkdesk.server.crypto import KeyringError

    settings = embedded_settings(desk_dir).model_copy(update=options or {})
    try:
        app = create_app(settings, keyring=prepare_desk(settings, demo=demo))
    except (KeyringError, RiskPolicyError, SlaPolicyError) as exc:
        # The console waiting for us shows this instead of "the service stopped".
        (desk_dir / START_ERROR_FILE).write_text(str(exc), encoding="utf-8")
        print(f"linkdesk desk-service: {exc}", file=sys.stderr)
        raise SystemExit(START_REFUSED_EXIT) from None
    activity = _Activity()

    @app.middleware("http")
    async def track(request, call_next):  # type: ignore[no-untyped-def]
        activity.busy += 1
        try:
            return await call_next(request)
        finally:
            activity.busy -= 1
            activity.last = time.monotonic()

    config = uvicorn.Config(
        app, uds=str(socket), log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    pid_file = desk_dir / "service.pid"

    database = desk_dir / DATABASE_FILE

    async def watch() -> None:
        """Stop after ``idle_timeout`` without requests, or as soon as the desk's database
        is gone (its folder deleted): a service must not go on serving a deleted desk,
        and the next console then starts a fresh one."""
        while not server.should_exit:
            await asyncio.sleep(min(1.0, idle_timeout / 4))
            if server.started and socket.exists() and socket.stat().st_mode & 0o077:
                socket.chmod(0o600)  # uvicorn opens it to everyone; the 0700 folder aside
            idle = activity.busy == 0 and time.monotonic() - activity.last > idle_timeout
            if idle or not database.exists():
                server.should_exit = True

    async def main() -> None:
        watcher = asyncio.create_task(watch())
        try:
            await server.serve()
        finally:
            watcher.cancel()

    old_umask = os.umask(0o077)  # the socket is for this user only
    pid_file.write_text(json.dumps({"pid": os.getpid(), "socket": str(socket)}))
    try:
        asyncio.run(main())
    finally:
        os.umask(old_umask)
        socket.unlink(missing_ok=True)
        pid_file.unlink(missing_ok=True)


class _Activity:
    def __init__(self) -> None:
        self.busy = 0
        self.last = time.monotonic()


# -- linkdesk serve --------------------------------------------------------------------


def serve(settings: ServerSettings, *, host: str, port: int, workers: int) -> None:
    """Serve a desk for a team over HTTP. Several workers need uvloop and httptools:
    with the plain asyncio loop uvicorn's shared socket adds ~44 ms to every request."""
    prepare_desk(settings)
    os.environ[SERVE_ENV_PREFIX + "SETTINGS"] = settings.model_dump_json()
    uvicorn.run(
        "linkdesk.server.runner:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level="info",
        access_log=False,
    )


def app_from_environment():  # type: ignore[no-untyped-def]
    """The app factory uvicorn's worker processes call."""
    from linkdesk.server.app import create_app

    settings = ServerSettings.model_validate_json(os.environ[SERVE_ENV_PREFIX + "SETTINGS"])
    return create_app(settings)

