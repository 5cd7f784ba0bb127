"""``linkdesk borrowers``: privacy requests — show, export, correct, erase, legal holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkdesk.cli.common import Session, client_of, first_error, run
from linkdesk.domain.text import clean_line

borrowers_app = typer.Typer(help="Privacy requests on a borrower: export, correct, erase, legal holds.")


def _session(ctx: typer.Context) -> Session:
    return ctx.obj  # type: ignore[no-any-return]


@borrowers_app.command("show")
def borrowers_show(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="B-000042")]) -> None:
    """The borrower, masked: identity, numbers, legal holds, cases."""

    async def fetch():
        async with client_of(_session(ctx)) as client:
            return await client.get_borrower(ref)

    b = run(fetch())
    state = "erased" if b.erased else f"version {b.version}"
    typer.echo(f"{b.ref}  {clean_line(b.name)}  {clean_line(b.id_number or '-')}  ({state})")
    for binding in b.bindings:
        typer.echo(f"  {binding.ref}  {clean_line(binding.phone.masked)}  {binding.status}")
    for hold in b.holds:
        typer.echo(f"  hold {hold.id}  {'active' if hold.active else 'lifted'}  {clean_line(hold.reason)}")
    if b.cases:
        typer.echo("  cases: " + " ".join(b.cases))


@borrowers_app.command("export")
def borrowers_export(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="B-000042")],
    out: Annotated[Path | None, typer.Option(help="File to write (default: the data dir's exports/).")] = None,
) -> None:
    """Export everything the desk holds about the borrower, decrypted, to a 0600 JSON file
    (recorded in the audit chain). The values are never printed."""
    from linkdesk.client.exports import default_export_path, write_export
    from linkdesk.config import data_dir

    session = _session(ctx)
    path = out or default_export_path(data_dir(session.choice.data_dir), ref.strip().upper())
    if path.exists():
        raise typer.BadParameter(f"{path} exists: choose another file", param_hint="--out")

    async def fetch():
        async with client_of(session) as client:
            return await client.export_borrower(ref)

    document = run(fetch())
    written = write_export(document, path)
    typer.echo(f"exported {clean_line(document['borrower']['ref'])} to {clean_line(str(written))} (mode 0600)")


@borrowers_app.command("correct")
def borrowers_correct(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="B-000042")],
    name: Annotated[str | None, typer.Option(help="The corrected name.")] = None,
    id_number: Annotated[str | None, typer.Option("--id-number", help="The corrected ID number (18 characters).")] = None,
) -> None:
    """Correct the name and/or ID number (before/after go to the cases' timelines)."""
    from pydantic import ValidationError

    from linkdesk.domain.privacy_requests import BorrowerCorrection

    try:
        correction = BorrowerCorrection(name=name, id_number=id_number)
    except ValidationError as exc:
        raise typer.BadParameter(first_error(exc)) from None
    if name is None and id_number is None:
        raise typer.BadParameter("give --name and/or --id-number")

    async def change():
        async with client_of(_session(ctx)) as client:
            current = await client.get_borrower(ref)
            return await client.correct_borrower(ref, correction, version=current.version)

    b = run(change())
    typer.echo(f"corrected {b.ref}: {clean_line(b.name)}  {clean_line(b.id_number or '-')}  (version {b.version})")


@borrowers_app.command("erase")
def borrowers_erase(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="B-000042")],
    reason: Annotated[str, typer.Option(help="subject_request, purpose_fulfilled, consent_withdrawn, "
                                             "retention_expired or unlawful_processing.")],
    note: Annotated[str, typer.Option(help="Free text for the cases' timelines (no personal data).")] = "",
    confirm: Annotated[str | None, typer.Option(help="Type the borrower's reference to confirm.")] = None,
) -> None:
    """Erase the borrower by destroying their data key. Cannot be undone; refused while a
    legal hold is active."""
    from pydantic import ValidationError

    from linkdesk.domain.privacy_requests import ErasureRequest

    try:
        request = ErasureRequest(reason=reason, note=note)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise typer.BadParameter(first_error(exc)) from None
    typed = confirm if confirm is not None else typer.prompt(f"type {ref} to erase it for good")
    if typed.strip().upper() != ref.strip().upper():
        typer.echo("not confirmed: nothing was erased", err=True)
        raise typer.Exit(1)

    async def erase():
        async with client_of(_session(ctx)) as client:
            return await client.erase_borrower(ref, request)

    result = run(erase())
    typer.echo(f"erased {result.borrower}: data key destroyed, {result.bindings_ended} bindings ended, "
               f"{len(result.cases)} cases marked (audit #{result.audit_seq})")


@borrowers_app.command("hold")
def borrowers_hold(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="B-000042")],
    reason: Annotated[str | None, typer.Option(help="Place a hold for this reason (4+ characters).")] = None,
    case: Annotated[str | None, typer.Option(help="The case the hold comes from.")] = None,
    lift: Annotated[int | None, typer.Option(help="Lift the hold with this id.")] = None,
) -> None:
    """List the borrower's legal holds, place one (--reason), or lift one (--lift ID)."""
    from pydantic import ValidationError

    from linkdesk.domain.privacy_requests import LegalHoldCreate

    if reason is not None and lift is not None:
        raise typer.BadParameter("either --reason or --lift")
    hold = None
    if reason is not None:
        try:
            hold = LegalHoldCreate(reason=reason, case=case)
        except ValidationError as exc:
            raise typer.BadParameter(first_error(exc)) from None

    async def act():
        async with client_of(_session(ctx)) as client:
            if hold is not None:
                await client.place_legal_hold(ref, hold)
            elif lift is not None:
                await client.lift_legal_hold(ref, lift)
            return await client.legal_holds(ref)

    for item in run(act()):
        state = f"lifted {item.lifted_at:%Y-%m-%d} by {item.lifted_by}" if item.lifted_at else "active"
        typer.echo(f"{item.id}  {clean_line(state)}  {item.placed_at:%Y-%m-%d} {clean_line(item.placed_by)}  "
                   f"{clean_line(item.reason)}")
