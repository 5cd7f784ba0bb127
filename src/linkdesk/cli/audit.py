"""``linkdesk audit``: verify the audit chain, sign checkpoints of its head, list records.

These commands open the database directly (like ``linkdesk agents add``) and never
need the master key: the chain is not encrypted. An embedded desk is created or
upgraded first; a server database (``--database-url``) is read as it is, so that an
auditor needs no more than read access (and, to checkpoint, insert on the audit tables).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkdesk.cli.common import DatabaseOption, terminal_json
from linkdesk.config import config_dir
from linkdesk.domain.audit import AuditAction, ChainState
from linkdesk.domain.text import clean_line

audit_app = typer.Typer(help="The audit chain: verify it, checkpoint its head, list records.")

SIGNING_KEY_FILE = "audit-signing.key"

CheckpointDirOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        help="Folder of checkpoint files to check the chain against; default: the embedded "
        "desk's checkpoints folder.",
        envvar="LINKDESK_CHECKPOINT_DIR",
        show_default=False,
        file_okay=False,
    ),
]
SigningKeyOption = Annotated[
    Path | None,
    typer.Option(
        help="Ed25519 private key (PEM or base64), mode 0600; default: audit-signing.key in "
        "the config directory, created on the first checkpoint.",
        envvar="LINKDESK_SIGNING_KEY",
        show_default=False,
        dir_okay=False,
    ),
]


def default_signing_key() -> Path:
    """Beside the user's settings, not beside the database: whoever can rewrite the
    database must not also find the key that signs its checkpoints."""
    return config_dir() / SIGNING_KEY_FILE


def _open(ctx: typer.Context, database_url: str | None):  # type: ignore[no-untyped-def]
    """An engine on the desk, and its default checkpoint folder."""
    from linkdesk.server.db import make_engine, migrate
    from linkdesk.server.runner import DATABASE_FILE, embedded_settings

    if database_url:
        return make_engine(database_url), None
    # The chain is not encrypted: auditing a desk needs no key, only its schema.
    settings = embedded_settings(ctx.obj.choice.path())
    if not (ctx.obj.choice.path() / DATABASE_FILE).exists():  # do not create a desk to audit it
        typer.echo(f"error: there is no desk at {clean_line(str(ctx.obj.choice.path()))}", err=True)
        raise typer.Exit(1)
    engine = make_engine(settings.database_url)
    migrate(engine=engine)
    return engine, settings.checkpoint_dir


def _database_failed(exc: Exception) -> typer.Exit:
    typer.echo(f"error: cannot read the audit chain: {clean_line(str(exc).splitlines()[0])}", err=True)
    typer.echo("(is it a LinkDesk database at the newest schema? linkdesk serve upgrades it)", err=True)
    return typer.Exit(2)


def _short(head_hash: str) -> str:
    return head_hash[:12] + "…"


def summary(state: ChainState) -> list[str]:
    """What ``audit verify`` prints: one line if intact, else a line per problem."""
    head = f"{state.records:,} records, head {_short(state.head_hash)}"
    if state.intact:
        agree = state.checkpoints_checked
        checkpoints = (
            "no checkpoints" if agree == 0
            else "1 checkpoint agrees" if agree == 1
            else f"{agree:,} checkpoints agree"
        )
        return [f"intact: {head}, {checkpoints}"]
    lines = [f"not intact: {head}"]
    if state.broken is not None:
        lines.append(f"  broken at record {state.broken.seq}: {clean_line(state.broken.problem)}")
    lines += [f"  {clean_line(problem)}" for problem in state.checkpoint_problems]
    return lines


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    checkpoints: CheckpointDirOption = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            help="Base64 Ed25519 public key the checkpoints must be signed with; default: "
            "the signing key's, if readable, else the key the desk recorded.",
            show_default=False,
        ),
    ] = None,
    signing_key: SigningKeyOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Walk the chain and check it against every checkpoint (exit 1 if not intact).

    Names the first broken record and why, and each checkpoint that disagrees."""
    import sqlalchemy.exc

    from linkdesk.server import chain
    from linkdesk.server.db import make_session_factory

    if checkpoints is not None and not checkpoints.is_dir():
        raise typer.BadParameter(f"{checkpoints} is not a folder", param_hint="--checkpoints")
    if public_key is None:
        key_path = signing_key or default_signing_key()
        if signing_key is not None or key_path.exists():
            try:
                public_key = chain.public_key_of(chain.load_signing_key(key_path))
            except chain.SigningKeyError as exc:
                raise typer.BadParameter(str(exc), param_hint="--signing-key") from None
    engine, default_dir = _open(ctx, database_url)
    try:
        with make_session_factory(engine)() as session:
            state = chain.verify(session, checkpoint_dir=checkpoints or default_dir, public_key=public_key)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise _database_failed(exc) from None
    finally:
        engine.dispose()
    for line in summary(state):
        typer.echo(line)
    if not state.intact:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    ctx: typer.Context,
    to: Annotated[
        Path | None,
        typer.Option(
            help="Folder to write the checkpoint file to; default: the embedded desk's "
            "checkpoints folder. Keep copies on other media.",
            envvar="LINKDESK_CHECKPOINT_DIR",
            show_default=False,
            file_okay=False,
        ),
    ] = None,
    signing_key: SigningKeyOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Sign the chain's head into a checkpoint file; print its path and the head.

    Verifies the chain first and refuses (exit 1) to vouch for one that does not verify;
    the checkpoint is signed with Ed25519 and recorded in the chain."""
    import sqlalchemy.exc

    from linkdesk.server import chain
    from linkdesk.server.audit import cli_actor
    from linkdesk.server.db import make_session_factory

    key_path = signing_key or default_signing_key()
    try:
        created = not key_path.exists()
        key = chain.signing_key(key_path, create=signing_key is None)
    except chain.SigningKeyError as exc:
        raise typer.BadParameter(str(exc), param_hint="--signing-key") from None
    if created and signing_key is None:
        typer.echo(f"new signing key: {key_path} (back it up; keep it away from the database)", err=True)
    engine, default_dir = _open(ctx, database_url)
    directory = to or default_dir
    if directory is None:
        engine.dispose()
        raise typer.BadParameter("a server database needs --to DIR (or LINKDESK_CHECKPOINT_DIR)", param_hint="--to")
    try:
        with make_session_factory(engine)() as session:
            taken = chain.take_checkpoint(session, key=key, directory=directory, actor=cli_actor())
    except chain.ChainNotIntact as exc:
        typer.echo("refused: the chain does not verify, and a checkpoint would vouch for it")
        for line in summary(exc.state):
            typer.echo(line)
        raise typer.Exit(1) from None
    except chain.ChainError as exc:
        typer.echo(f"error: {clean_line(str(exc))}", err=True)
        raise typer.Exit(2) from None
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise _database_failed(exc) from None
    finally:
        engine.dispose()
    checkpoint = taken.checkpoint
    typer.echo(str(taken.path))
    typer.echo(f"head: record {checkpoint.seq:,}, {checkpoint.hash}")


@audit_app.command("list")
def audit_list(
    ctx: typer.Context,
    actor: Annotated[str | None, typer.Option(help="Only this actor (agent name, cli:user).")] = None,
    action: Annotated[AuditAction | None, typer.Option(help="Only this action.")] = None,
    case: Annotated[str | None, typer.Option(help="Only records under this case (LD-000123).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many records, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, one list of records.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """List audit records, newest first."""
    import sqlalchemy.exc

    from linkdesk.server import audit
    from linkdesk.server.db import make_session_factory

    records = []
    engine, _ = _open(ctx, database_url)
    try:
        with make_session_factory(engine)() as session:
            cursor = None
            while len(records) < limit:
                page = audit.list_records(
                    session, actor=actor, action=action, case=case, cursor=cursor,
                    limit=min(500, limit - len(records)),
                )
                records += page.items
                if (cursor := page.next_cursor) is None:
                    break
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise _database_failed(exc) from None
    finally:
        engine.dispose()
    if as_json:
        typer.echo(terminal_json([record.model_dump(mode="json") for record in records]))
        return
    for record in records:
        fields = [
            f"{record.seq:>7}",
            f"{record.at:%Y-%m-%d %H:%M:%S}",
            f"{clean_line(record.actor):<16}",
            f"{record.action.value:<16}",
            clean_line(record.target),
            clean_line(record.case or "-"),
            clean_line(record.reason or "-"),
        ]
        typer.echo("  ".join(fields))
