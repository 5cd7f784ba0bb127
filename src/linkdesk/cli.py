"""The ``linkdesk`` command: wires the layers together. Nothing imports this module.

Heavy layers are imported inside the commands that need them, so that opening the
console never loads the server stack and ``--help`` stays instant.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import typer

from linkdesk import __version__
from linkdesk.config import DeskMode, DeskSettings, Settings
from linkdesk.desks import DEFAULT_DESK, DEMO_DESK, DeskChoice, connector, label
from linkdesk.domain.text import clean_line

app = typer.Typer(
    help="LinkDesk: the console help-desk hub for phone-number association risk.",
    add_completion=False,
    pretty_exceptions_enable=False,
)
cases_app = typer.Typer(help="Read cases, for scripts (--json) and people.")
agents_app = typer.Typer(help="Agents of a desk and their API tokens.")
desk_app = typer.Typer(help="The local desk service behind the embedded desks.")
app.add_typer(cases_app, name="cases")
app.add_typer(agents_app, name="agents")
app.add_typer(desk_app, name="desk")


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


def _version(value: bool) -> None:
    if value:
        typer.echo(f"linkdesk {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where embedded desks live.", envvar="LINKDESK_DATA_DIR", show_default=False),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Use the demo desk.")] = False,
    server: Annotated[
        str | None, typer.Option(help="URL of a desk server (linkdesk serve).", show_default=False)
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help="API token for --server.", envvar="LINKDESK_TOKEN", show_default=False),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Open the console on your desk, or run a command. Without a server configured the
    desk is embedded: a SQLite file in the data directory."""
    if server is not None:
        try:
            DeskSettings(mode=DeskMode.SERVER, url=server)
        except ValueError as exc:
            raise typer.BadParameter(_first_error(exc), param_hint="--server") from None
    ctx.obj = Session(DeskChoice(DEMO_DESK if demo else DEFAULT_DESK, data_dir), server, token)
    if ctx.invoked_subcommand is None:
        _run_console(ctx.obj)


@app.command("demo")
def demo_command(ctx: typer.Context) -> None:
    """Open the console on the demo desk (created and seeded on first use)."""
    session: Session = ctx.obj
    _run_console(replace(session, choice=replace(session.choice, name=DEMO_DESK)))


def _run_console(session: Session) -> None:
    from linkdesk.tui.app import LinkDeskApp  # the console's imports, and nothing of the server

    settings = session.settings()
    console = LinkDeskApp(
        settings,
        connector(session.choice),
        desk_label=label(session.choice, settings.desk),
        save_settings=None if session.server else Settings.save,
    )
    console.run()


# -- cases -----------------------------------------------------------------------------


def _client(session: Session):
    settings = session.settings()
    return connector(session.choice)(settings.desk)


def _run(coroutine: Any) -> Any:
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


@cases_app.command("list")
def cases_list(
    ctx: typer.Context,
    state: Annotated[str, typer.Option(help="open, done or all.")] = "open",
    category: Annotated[str | None, typer.Option(help="A case category.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Agent name, me or none.")] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Text to search.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many cases.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """List cases, newest activity first."""
    from pydantic import ValidationError

    from linkdesk.domain.views import CaseQuery

    try:
        case_query = CaseQuery(state=state, category=category, assignee=assignee, q=query)
    except ValidationError as exc:
        raise typer.BadParameter(_first_error(exc)) from None

    async def fetch():
        async with _client(ctx.obj) as client:
            items, cursor = [], None
            while len(items) < limit:
                page = await client.list_cases(case_query, cursor=cursor, limit=min(200, limit - len(items)))
                items.extend(page.items)
                cursor = page.next_cursor
                if not cursor:
                    break
            return items

    cases = _run(fetch())
    if as_json:
        typer.echo(json.dumps([case.model_dump(mode="json") for case in cases], ensure_ascii=False, indent=2))
        return
    for case in cases:
        typer.echo(
            "  ".join(
                [
                    case.ref,
                    f"{case.priority:<6}",
                    f"{case.status:<8}",
                    f"{case.category:<16}",
                    clean_line(case.phone or "-"),
                    clean_line(case.subject),
                ]
            )
        )


@cases_app.command("show")
def cases_show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Case id, e.g. LD-000123.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Show one case with its timeline."""

    async def fetch():
        async with _client(ctx.obj) as client:
            case = await client.get_case(ref)
            events = await client.list_events(case.ref, limit=200)
            return case, events.items

    case, events = _run(fetch())
    if as_json:
        document = case.model_dump(mode="json")
        document["events"] = [event.model_dump(mode="json") for event in events]
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{case.ref}  {clean_line(case.subject)}")
    typer.echo(f"  status {case.status}  priority {case.priority}  category {case.category}")
    typer.echo(f"  assignee {clean_line(case.assignee.display_name) if case.assignee else '-'}")
    if case.borrower:
        typer.echo(f"  borrower {clean_line(case.borrower.name)} ({case.borrower.ref})")
    if case.phone:
        typer.echo(f"  phone {clean_line(case.phone)}")
    if case.body:
        typer.echo("")
        typer.echo(clean_line(case.body))
    typer.echo("")
    for event in events:
        marker = "note" if event.internal else event.kind
        text = event.body
        if not text and "to" in event.data:
            text = f"{event.data.get('from') or '-'} → {event.data.get('to') or '-'}"
        typer.echo(
            f"  {event.created_at.astimezone():%Y-%m-%d %H:%M}  {marker:<10} "
            f"{clean_line(event.actor or '-')}: {clean_line(str(text))}"
        )


# -- serving desks -----------------------------------------------------------------------


def _server_settings(session: Session, database_url: str | None, key_file: Path | None):
    from linkdesk.server.runner import embedded_settings
    from linkdesk.server.settings import ServerSettings

    if database_url:
        import os

        master_key = os.environ.get("LINKDESK_MASTER_KEY") or None
        if key_file is None and master_key is None:
            raise typer.BadParameter(
                "a server database needs --key-file or LINKDESK_MASTER_KEY", param_hint="--key-file"
            )
        return ServerSettings(
            database_url=database_url, key_file=key_file, master_key=master_key, local_agent=False
        )
    settings = embedded_settings(session.choice.path())
    return settings.model_copy(update={"local_agent": False})


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


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    database_url: DatabaseOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Serve the desk API over HTTP for a team (every request needs an agent token)."""
    from linkdesk.server.runner import serve

    settings = _server_settings(ctx.obj, database_url, key_file)
    typer.echo(f"LinkDesk desk API on http://{host}:{port}/api/v1 (docs at /api/v1/docs)", err=True)
    serve(settings, host=host, port=port, workers=workers)


@app.command("desk-service", hidden=True)
def desk_service_command(
    desk_dir: Annotated[Path, typer.Option()],
    socket: Annotated[Path, typer.Option()],
    idle_timeout: Annotated[float, typer.Option()] = 1800.0,
    demo: Annotated[bool, typer.Option("--demo")] = False,
) -> None:
    """The local desk service (started by the console when needed)."""
    from linkdesk.server.runner import run_local_service

    run_local_service(desk_dir, socket, demo=demo, idle_timeout=idle_timeout)


@desk_app.command("stop")
def desk_stop(ctx: typer.Context) -> None:
    """Stop the local desk service of this desk, if it runs."""
    stopped = ctx.obj.choice.local().stop()
    typer.echo("stopped" if stopped else "not running")


@desk_app.command("path")
def desk_path(ctx: typer.Context) -> None:
    """Print the folder of this embedded desk."""
    typer.echo(str(ctx.obj.choice.path()))


# -- agents ----------------------------------------------------------------------------


@agents_app.command("add")
def agents_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name, e.g. wang.fang.")],
    role: Annotated[str, typer.Option(help="agent, supervisor, risk_analyst, compliance or admin.")] = "agent",
    display_name: Annotated[str | None, typer.Option(help="Name shown in the console.")] = None,
    database_url: DatabaseOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Add an agent (or renew their token) and print the API token once."""
    from linkdesk.domain.agents import Role
    from linkdesk.server.agents import issue_token
    from linkdesk.server.db import make_engine, make_session_factory
    from linkdesk.server.runner import prepare_desk

    try:
        chosen = Role(role)
    except ValueError:
        raise typer.BadParameter(f"unknown role {role!r}", param_hint="--role") from None
    settings = _server_settings(ctx.obj, database_url, key_file)
    prepare_desk(settings)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            token = issue_token(db, name, display_name or name, chosen)
    finally:
        engine.dispose()
    typer.echo(token)


@agents_app.command("list")
def agents_list(ctx: typer.Context) -> None:
    """List the desk's active agents."""

    async def fetch():
        async with _client(ctx.obj) as client:
            return await client.agents()

    for agent in _run(fetch()):
        typer.echo(f"{clean_line(agent.name):<20} {agent.role:<14} {clean_line(agent.display_name)}")


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first['msg']}" if where else first["msg"]
    return str(exc)


def main() -> None:
    app(prog_name="linkdesk")


if __name__ == "__main__":
    sys.exit(main())
