"""``linkdesk agents``: the desk's agents, their roles and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from linkdesk.cli.common import DatabaseOption, KeyFileOption, client_of, run, server_settings
from linkdesk.domain.text import clean_line

agents_app = typer.Typer(help="Agents of a desk, their roles and API tokens.")


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
    settings = server_settings(ctx.obj, database_url, key_file)
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
        async with client_of(ctx.obj) as client:
            return await client.agents()

    for agent in run(fetch()):
        typer.echo(f"{clean_line(agent.name):<20} {agent.role:<14} {clean_line(agent.display_name)}")
