"""``linkdesk outbox``: the sandbox SMS provider's outbox (what it would have sent)."""

from __future__ import annotations

from typing import Annotated

import typer

from linkdesk.cli.common import client_of, run, terminal_json
from linkdesk.domain.text import clean_line


def outbox_command(
    ctx: typer.Context,
    case: Annotated[str | None, typer.Option(help="Only messages about this case, e.g. LD-000123.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many messages.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """List the sandbox SMS outbox, newest first: recipients masked, texts as sent (the
    one-time codes of rebinds). A real SMS provider never writes it."""

    async def fetch():  # type: ignore[no-untyped-def]
        async with client_of(ctx.obj) as client:
            items, cursor = [], None
            while len(items) < limit:
                page = await client.sms_outbox(case=case, cursor=cursor, limit=min(200, limit - len(items)))
                items.extend(page.items)
                cursor = page.next_cursor
                if not cursor:
                    break
            return items

    messages = run(fetch())
    if as_json:
        typer.echo(terminal_json([message.model_dump(mode="json") for message in messages]))
        return
    if not messages:
        typer.echo("the outbox is empty")
        return
    for message in messages:
        sent = message.sent_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        typer.echo("  ".join([sent, clean_line(message.to), clean_line(message.case or "-"), clean_line(message.text)]))
