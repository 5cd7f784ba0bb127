"""``linkdesk keys``: the desk's master key versions, their status and rotation.

Nothing here prints key material except ``keys generate``, whose whole purpose it is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from linkdesk.cli.common import DatabaseOption, KeyFileOption, key_errors_exit, server_settings
from linkdesk.domain.text import clean_line

keys_app = typer.Typer(help="The desk's master keys: status, rotation, new keys for servers.")

SHORT_FINGERPRINT = 12


def _engine(settings):  # type: ignore[no-untyped-def]
    from linkdesk.server.db import make_engine, migrate

    engine = make_engine(settings.database_url)
    migrate(engine=engine)
    return engine


def _require_desk(ctx: typer.Context, settings, database_url: str | None) -> None:  # type: ignore[no-untyped-def]
    """An embedded desk must exist already: these commands do not create one."""
    if database_url:
        return
    from sqlalchemy.engine import make_url

    if not Path(make_url(settings.database_url).database or "").exists():
        typer.echo(f"error: there is no desk at {clean_line(str(ctx.obj.choice.path()))}", err=True)
        raise typer.Exit(1)


@keys_app.command("status")
def keys_status(ctx: typer.Context, database_url: DatabaseOption = None, key_file: KeyFileOption = None) -> None:
    """Key versions of the desk: fingerprints, blind index lengths, rows under each."""
    from linkdesk.server import keys
    from linkdesk.server.crypto import KeyRing, KeyringError

    settings = server_settings(ctx.obj, database_url, key_file)
    _require_desk(ctx, settings, database_url)
    problem = None
    try:
        keyring = KeyRing.load(master_key=settings.master_key, key_file=settings.key_file, create=False)
    except KeyringError as exc:
        keyring, problem = None, str(exc)
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            versions = keys.status(conn, keyring)
    finally:
        engine.dispose()
    source = keyring.source if keyring else (
        "LINKDESK_MASTER_KEY" if settings.master_key else f"key file {settings.key_file}"
    )
    typer.echo(f"keys from: {clean_line(source)}")
    typer.echo(f"{'version':>7}  {'fingerprint':<{SHORT_FINGERPRINT}}  {'index':>6}  "
               f"{'borrowers':>9}  {'bindings':>9}  {'cases':>9}  state")
    bad = problem is not None
    for v in versions:
        state, wrong = _state(v)
        bad = bad or wrong
        bits = f"{v.index_bits} b" if v.index_bits else "-"
        typer.echo(
            f"{v.version:>7}  {(v.fingerprint or '-')[:SHORT_FINGERPRINT]:<{SHORT_FINGERPRINT}}  {bits:>6}  "
            f"{v.rows['borrowers']:>9}  {v.rows['phone_bindings']:>9}  {v.rows['cases']:>9}  {state}"
        )
    if problem:
        typer.echo(f"error: {clean_line(problem)}", err=True)
    raise typer.Exit(1 if bad else 0)


def _state(v) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    """What to say about one version, and whether it stops the desk from starting."""
    has_rows = any(v.rows.values())
    if v.matches is False:
        return "WRONG KEY: the held key is not the one registered", True
    if v.registered and not v.held:
        return ("MISSING: data is under it", True) if has_rows else ("retired", False)
    if not v.registered:
        return ("not registered, data under it", False) if has_rows else ("new: registered at next start", False)
    return ("writing" if v.writing else "held"), False


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Rows per transaction.")] = 500,
    server_wait: Annotated[
        float,
        typer.Option(min=0, help="Seconds to give running servers to pick up a new key version "
                     "(they look at the key file every 2 s) before re-encrypting."),
    ] = 2.5,
    database_url: DatabaseOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Re-encrypt every sealed value under a new key version (resumable; the desk stays usable).

    With a key file a new version is added to it (older ones are kept). With
    LINKDESK_MASTER_KEY, add a newer version to it first (`linkdesk keys generate`)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from linkdesk.server import keys, rotation

    settings = server_settings(ctx.obj, database_url, key_file)
    _require_desk(ctx, settings, database_url)
    engine = _engine(settings)
    try:
        with key_errors_exit():
            keyring = keys.open_keyring(engine, settings)
            plan = rotation.begin(
                engine, keyring, planning_rows=settings.index_planning_rows, grace=server_wait
            )
        if plan.added:
            typer.echo(f"key version {plan.target} added to the {clean_line(keyring.source)} "
                       f"({keyring.index_bits(plan.target)}-bit blind index)", err=True)
        else:  # a rotation stopped half-way, or a version added to LINKDESK_MASTER_KEY
            typer.echo(f"re-encrypting the {plan.pending} rows under older key versions to version "
                       f"{plan.target}", err=True)
        progress = Progress(
            TextColumn("re-encrypting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=Console(stderr=True), transient=False,
        )
        task = progress.add_task("rows", total=plan.pending)
        try:
            with progress:
                result = rotation.rotate(
                    engine, keyring, plan.target, previous=plan.previous, batch_size=batch_size,
                    on_progress=lambda done, total: progress.update(task, completed=done, total=total),
                )
        except KeyboardInterrupt:
            typer.echo("interrupted; every finished batch is kept: run `linkdesk keys rotate` again "
                       "to finish", err=True)
            raise typer.Exit(130) from None
    finally:
        engine.dispose()
    typer.echo(f"{result.rows} rows re-encrypted under key version {plan.target}")
    for failure in result.failures:
        typer.echo(f"  not rotated: {failure.table} row {failure.row_id} {failure.column}: "
                   f"{clean_line(failure.problem)}", err=True)
    if result.failures:
        typer.echo(f"{len(result.failures)} values do not decrypt and were left as they are", err=True)
    if result.left:
        typer.echo(f"{result.left} rows are still under older versions (written meanwhile by a server "
                   "that lacks the new key?): run `linkdesk keys rotate` again", err=True)
    raise typer.Exit(1 if result.failures or result.left else 0)


@keys_app.command("generate")
def keys_generate(
    version: Annotated[
        int | None,
        typer.Option(min=1, max=255, help="Version of the new key; default: one above the newest "
                     "in LINKDESK_MASTER_KEY.", show_default=False),
    ] = None,
) -> None:
    """Print a new key as a LINKDESK_MASTER_KEY entry, `<version>:<base64>` (key files need
    nothing: `keys rotate` adds versions itself)."""
    from linkdesk.server.crypto import key_entry, parse_keys

    if version is None:
        current = os.environ.get("LINKDESK_MASTER_KEY")
        with key_errors_exit():
            version = max(parse_keys(current, "LINKDESK_MASTER_KEY")) + 1 if current else 1
    if version > 255:
        typer.echo("error: key versions end at 255", err=True)
        raise typer.Exit(1)
    typer.echo(key_entry(version))
    typer.echo("append it to LINKDESK_MASTER_KEY with a comma (keep the older entries), give every "
               "server the new value and restart them, then run `linkdesk keys rotate`", err=True)
