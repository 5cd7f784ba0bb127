"""What the commands share: the session (which desk), running a client call, options."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from linkdesk.config import DeskMode, DeskSettings, Settings
from linkdesk.desks import DeskChoice, connector
from linkdesk.domain.text import clean_line


@dataclass(frozen=True)
class Session:
    choice: DeskChoice
    server: str | None = None
    token: str | None = None

    def settings(self) -> Settings:
        settings = Settings()
        if self.server:
            desk = DeskSettings(mode=DeskMode.SERVER, url=self.server, token=self.token or "")
            settings = settings.model_copy(update={"desk": desk})
        elif self.choice.demo:
            settings = settings.model_copy(update={"desk": DeskSettings()})
        return settings


def client_of(session: Session):
    settings = session.settings()
    return connector(session.choice)(settings.desk)


def run(coroutine: Any) -> Any:
    from linkdesk.client.errors import DeskError, ProblemError

    try:
        return asyncio.run(coroutine)
    except ProblemError as exc:
        detail = f": {exc.problem.detail}" if exc.problem.detail else ""
        typer.echo(f"error: {clean_line(exc.title)}{clean_line(detail)}", err=True)
        for error in exc.field_errors:
            typer.echo(f"  {clean_line(error.field)}: {clean_line(error.message)}", err=True)
        raise typer.Exit(2) from None
    except DeskError as exc:
        typer.echo(f"error: {clean_line(str(exc))}", err=True)
        raise typer.Exit(3) from None


def intel_options() -> dict[str, Any]:
    """Intel settings from the environment: ``LINKDESK_INTEL_PROVIDER`` (sandbox, aliyun,
    twilio), ``LINKDESK_RISK_POLICY`` and ``LINKDESK_SLA_POLICY`` (TOML files merged over
    the packaged policies)."""
    import os

    options: dict[str, Any] = {}
    provider = (os.environ.get("LINKDESK_INTEL_PROVIDER") or "").strip().lower()
    if provider:
        if provider not in ("sandbox", "aliyun", "twilio"):
            raise typer.BadParameter("LINKDESK_INTEL_PROVIDER must be sandbox, aliyun or twilio")
        options["intel_provider"] = provider
    policy = (os.environ.get("LINKDESK_RISK_POLICY") or "").strip()
    if policy:
        options["risk_policy"] = Path(policy)
    sla_policy = (os.environ.get("LINKDESK_SLA_POLICY") or "").strip()
    if sla_policy:
        options["sla_policy"] = Path(sla_policy)
    return options


def server_settings(session: Session, database_url: str | None, key_file: Path | None):
    from linkdesk.server.runner import embedded_settings
    from linkdesk.server.settings import ServerSettings

    if database_url:
        import os

        master_key = os.environ.get("LINKDESK_MASTER_KEY") or None
        if key_file is None and master_key is None:
            raise typer.BadParameter(
                "a server database needs --key-file or LINKDESK_MASTER_KEY", param_hint="--key-file"
            )
        checkpoints = os.environ.get("LINKDESK_CHECKPOINT_DIR") or None
        return ServerSettings(
            database_url=database_url, key_file=key_file, master_key=master_key, local_agent=False,
            checkpoint_dir=Path(checkpoints) if checkpoints else None, **intel_options(),
        )
    settings = embedded_settings(session.choice.path())
    return settings.model_copy(update={"local_agent": False, **intel_options()})


DatabaseOption = Annotated[
    str | None,
    typer.Option(
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db; default: the embedded "
        "desk's SQLite file.",
        envvar="LINKDESK_DATABASE_URL",
        show_default=False,
    ),
]
KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        help="Master key file (created 0600 if absent); or set LINKDESK_MASTER_KEY.",
        envvar="LINKDESK_KEY_FILE",
        show_default=False,
    ),
]


KEY_ERROR_EXIT = 1


@contextmanager
def key_errors_exit() -> Iterator[None]:
    """A desk whose keys are wrong, missing or unusable: say why, exit 1, no traceback."""
    from linkdesk.server.crypto import KeyringError

    try:
        yield
    except KeyringError as exc:
        typer.echo(f"error: {clean_line(str(exc))}", err=True)
        raise typer.Exit(KEY_ERROR_EXIT) from None


def first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first['msg']}" if where else first["msg"]
    return str(exc)


_DEL_AND_C1 = re.compile("[\x7f-\x9f]")


def terminal_json(document: Any) -> str:
    """JSON for a terminal: readable Chinese (no ASCII escaping), but DEL and the C1
    controls (``\\x9b`` is CSI) escaped, which ``json.dumps`` would pass through raw."""
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return _DEL_AND_C1.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
