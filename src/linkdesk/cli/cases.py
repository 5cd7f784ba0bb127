"""``linkdesk cases``: read cases, for scripts (--json) and people."""

from __future__ import annotations

from typing import Annotated

import typer

from linkdesk.cli.common import client_of, first_error, run, terminal_json
from linkdesk.domain.text import clean_line

cases_app = typer.Typer(help="Read cases, for scripts (--json) and people.")


@cases_app.command("list")
def cases_list(
    ctx: typer.Context,
    state: Annotated[str, typer.Option(help="open, done or all.")] = "open",
    category: Annotated[str | None, typer.Option(help="A case category.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Agent name, me or none.")] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Text to search.")] = None,
    risk_min: Annotated[
        int | None, typer.Option("--risk-min", min=0, max=100, help="Only cases with a risk score of at least this.")
    ] = None,
    filter_text: Annotated[
        str | None,
        typer.Option("--filter", "-f", help="The filter language, e.g. 'cat:rebind prio:urgent' (docs/filters.md)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many cases.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """List cases, newest activity first (an SLA filter: due soonest first)."""
    from pydantic import ValidationError

    from linkdesk.domain.filters import parse
    from linkdesk.domain.views import CaseQuery, CaseSort

    sort = CaseSort.UPDATED_DESC
    if filter_text:
        _check_filter(filter_text)
        if parse(filter_text).filter.lists_by_due:
            sort = CaseSort.DUE
    try:
        case_query = CaseQuery(
            state=state, category=category, assignee=assignee, q=query, risk_min=risk_min,
            filter=filter_text or None, sort=sort,
        )
    except ValidationError as exc:
        raise typer.BadParameter(first_error(exc)) from None

    async def fetch():
        async with client_of(ctx.obj) as client:
            items, cursor = [], None
            while len(items) < limit:
                page = await client.list_cases(case_query, cursor=cursor, limit=min(200, limit - len(items)))
                items.extend(page.items)
                cursor = page.next_cursor
                if not cursor:
                    break
            return items

    cases = run(fetch())
    if as_json:
        typer.echo(terminal_json([case.model_dump(mode="json") for case in cases]))
        return
    for case in cases:
        typer.echo(
            "  ".join(
                [
                    case.ref,
                    f"{case.priority:<6}",
                    f"{case.status:<8}",
                    f"{case.category:<16}",
                    f"{'-' if case.risk is None else case.risk:>3}",
                    clean_line(case.phone or "-"),
                    clean_line(case.subject),
                ]
            )
        )


def _check_filter(text: str) -> None:
    """Refuse a bad filter before any request: the message, and the filter with a caret
    under each bad term (digits of a possible number masked); exit code 2."""
    import re

    from rich.cells import cell_len

    from linkdesk.domain.filters import parse

    errors = parse(text).errors
    if not errors:
        return
    def mask(match: re.Match[str]) -> str:
        return match.group() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", match.group()) else re.sub(r"\d", "•", match.group())

    shown = clean_line(re.sub(r"\d[\d\- ]{5,}\d", mask, text))
    for error in errors:
        typer.echo(f"error: bad filter: {clean_line(error.term)}: {clean_line(error.message)}", err=True)
        typer.echo(f"  {shown}", err=True)
        before = cell_len(shown[: error.start])
        typer.echo("  " + " " * before + "^" * max(1, cell_len(shown[error.start:error.end])), err=True)
    raise typer.Exit(2)


@cases_app.command("show")
def cases_show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Case id, e.g. LD-000123.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Show one case with its timeline."""

    async def fetch():
        async with client_of(ctx.obj) as client:
            case = await client.get_case(ref)
            events = await client.list_events(case.ref, limit=200)
            return case, events.items

    case, events = run(fetch())
    if as_json:
        document = case.model_dump(mode="json")
        document["events"] = [event.model_dump(mode="json") for event in events]
        typer.echo(terminal_json(document))
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
