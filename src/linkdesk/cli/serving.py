"""``linkdesk serve``, the local desk service, ``linkdesk desk``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkdesk.cli.common import DatabaseOption, KeyFileOption, key_errors_exit, server_settings

desk_app = typer.Typer(help="The local desk service behind the embedded desks.")


def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    monitor_every: Annotated[
        float,
        typer.Option(min=0, help="Minutes between the monitor's passes over the active bindings "
                     "(0: no monitor). One process runs it, whatever the number of workers."),
    ] = 60.0,
    database_url: DatabaseOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Serve the desk API over HTTP for a team (every request needs an agent token)."""
    from linkdesk.server.runner import serve

    settings = server_settings(ctx.obj, database_url, key_file)
    settings = settings.model_copy(update={"monitor_every": monitor_every})
    typer.echo(f"LinkDesk desk API on http://{host}:{port}/api/v1 (docs at /api/v1/docs)", err=True)
    with key_errors_exit():
        serve(settings, host=host, port=port, workers=workers)


def desk_service_command(
    desk_dir: Annotated[Path, typer.Option()],
    socket: Annotated[Path, typer.Option()],
    idle_timeout: Annotated[float, typer.Option()] = 1800.0,
    demo: Annotated[bool, typer.Option("--demo")] = False,
) -> None:
    """The local desk service (started by the console when needed)."""
    from linkdesk.cli.common import intel_options
    from linkdesk.server.runner import run_local_service

    # the console's environment reaches its desk as it reaches `serve`
    run_local_service(desk_dir, socket, demo=demo, idle_timeout=idle_timeout, options=intel_options())


@desk_app.command("stop")
def desk_stop(ctx: typer.Context) -> None:
    """Stop the local desk service of this desk, if it runs."""
    stopped = ctx.obj.choice.local().stop()
    typer.echo("stopped" if stopped else "not running")


@desk_app.command("path")
def desk_path(ctx: typer.Context) -> None:
    """Print the folder of this embedded desk."""
    typer.echo(str(ctx.obj.choice.path()))
