"""``linkdesk agents``: the desk's agents, their roles and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from linkdesk.cli.common import (
    DatabaseOption,
    KeyFileOption,
    client_of,
    key_errors_exit,
    run,
    server_settings,
)
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
    from pydantic import TypeAdapter, ValidationError

    from linkdesk.domain.agents import AgentName
    from linkdesk.server.agents import issue_token
    from linkdesk.server.db import make_engine, make_session_factory
    from linkdesk.server.runner import prepare_desk

    chosen = _role(role, "--role")
    try:
        name = TypeAdapter(AgentName).validate_python(name)
    except ValidationError:
        raise typer.BadParameter(
            "use 2–64 lower-case letters, digits, '.', '_' or '-'", param_hint="NAME"
        ) from None
    settings = server_settings(ctx.obj, database_url, key_file)
    with key_errors_exit():
        prepare_desk(settings)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            token = issue_token(db, name, display_name or name, chosen)
    finally:
        engine.dispose()
    typer.echo(token)


@agents_app.command("list")
def agents_list(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="Also disabled agents (admins).")] = False,
) -> None:
    """List the desk's agents: name, role, state, display name."""

    async def fetch():
        async with client_of(ctx.obj) as client:
            return await client.agents(include_disabled=show_all)

    for agent in run(fetch()):
        state = "active" if agent.active else "disabled"
        typer.echo(f"{clean_line(agent.name):<20} {agent.role:<14} {state:<9} {clean_line(agent.display_name)}")


def _change(ctx: typer.Context, name: str, database_url: str | None, key_file, **change) -> None:  # type: ignore[no-untyped-def]
    """Apply an AgentPatch directly to the desk's database, as the administrator on this
    machine (``cli:<user>`` in the audit chain)."""
    from datetime import UTC, datetime

    from linkdesk.domain.agents import AgentPatch
    from linkdesk.server import audit
    from linkdesk.server.agents import change_agent
    from linkdesk.server.db import make_engine, make_session_factory
    from linkdesk.server.errors import DeskProblem
    from linkdesk.server.runner import prepare_desk

    settings = server_settings(ctx.obj, database_url, key_file)
    with key_errors_exit():
        prepare_desk(settings)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as db:
            try:
                agent = change_agent(db, name, AgentPatch(**change), actor=audit.cli_actor(), at=datetime.now(UTC))
            except DeskProblem as exc:
                typer.echo(f"error: {clean_line(exc.detail or exc.title)}", err=True)
                raise typer.Exit(2) from None
            db.commit()
    finally:
        engine.dispose()
    state = "active" if agent.active else "disabled"
    typer.echo(f"{clean_line(agent.name)}: {agent.role}, {state}")


@agents_app.command("disable")
def agents_disable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent's login name.")],
    database_url: DatabaseOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Disable an agent: their token stops working at once (recorded in the audit chain)."""
    _change(ctx, name, database_url, key_file, active=False)


@agents_app.command("enable")
def agents_enable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent's login name.")],
    database_url: DatabaseOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Let a disabled agent sign in again with their token."""
    _change(ctx, name, database_url, key_file, active=True)


@agents_app.command("role")
def agents_role(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent's login name.")],
    role: Annotated[str, typer.Argument(help="agent, supervisor, risk_analyst, compliance or admin.")],
    database_url: DatabaseOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Change an agent's role (recorded in the audit chain)."""
    _change(ctx, name, database_url, key_file, role=_role(role, "ROLE"))


def _role(value: str, hint: str):  # type: ignore[no-untyped-def]
    from linkdesk.domain.agents import Role

    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(str(role) for role in Role)
        raise typer.BadParameter(f"unknown role {value!r} (one of {choices})", param_hint=hint) from None
