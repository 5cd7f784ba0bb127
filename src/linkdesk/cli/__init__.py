"""The ``linkdesk`` command: wires the layers together. Nothing imports this module.

Heavy layers are imported inside the commands that need them, so that opening the
console never loads the server stack and ``--help`` stays instant.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from linkdesk import __version__
from linkdesk.cli.agents import agents_app
from linkdesk.cli.audit import audit_app
from linkdesk.cli.borrowers import borrowers_app
from linkdesk.cli.cases import cases_app
from linkdesk.cli.common import Session, first_error
from linkdesk.cli.keys import keys_app
from linkdesk.cli.monitor import monitor_command
from linkdesk.cli.outbox import outbox_command
from linkdesk.cli.serving import desk_app, desk_service_command, serve_command
from linkdesk.config import DeskMode, DeskSettings, Settings
from linkdesk.desks import DEFAULT_DESK, DEMO_DESK, DeskChoice, connector, label

app = typer.Typer(
    help="LinkDesk: the console help-desk hub for phone-number association risk.",
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(cases_app, name="cases")
app.add_typer(agents_app, name="agents")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(borrowers_app, name="borrowers")
app.add_typer(desk_app, name="desk")
app.command("serve")(serve_command)
app.command("monitor")(monitor_command)
app.command("outbox")(outbox_command)
app.command("desk-service", hidden=True)(desk_service_command)


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
            raise typer.BadParameter(first_error(exc), param_hint="--server") from None
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


def main() -> None:
    app(prog_name="linkdesk")


if __name__ == "__main__":
    sys.exit(main())
