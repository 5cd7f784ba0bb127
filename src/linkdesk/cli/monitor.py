"""``linkdesk monitor``: re-check the desk's active bindings and alert on changes.

It opens the desk's database directly (like ``linkdesk keys`` and ``linkdesk audit``),
with the desk's keys, and asks the configured provider (``LINKDESK_INTEL_PROVIDER``,
default the sandbox). ``--once`` makes one pass and prints what it did; without it the
command runs a pass every ``--every`` minutes, sharing the monitor lease with any
``linkdesk serve`` on the same desk, so that one of them checks at a time.
"""

from __future__ import annotations

from typing import Annotated

import typer

from linkdesk.cli.common import DatabaseOption, KeyFileOption, key_errors_exit, server_settings
from linkdesk.domain.text import clean_line


def monitor_command(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="One pass, then print what it did.")] = False,
    every: Annotated[float, typer.Option(min=0.1, help="Minutes between passes (without --once).")] = 60.0,
    recheck_after: Annotated[
        float, typer.Option(min=0, help="Minutes after which a binding is due to be checked again.")
    ] = 24 * 60.0,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Bindings per batch.")] = 100,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many bindings per pass.")] = None,
    database_url: DatabaseOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Re-check the active bindings that are due, re-score them, and open a risk alert
    for each change (cancelled, re-issued since binding, line down, shared by a new
    borrower)."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from linkdesk.cli.keys import _require_desk
    from linkdesk.domain.risk import RiskPolicyError, load_policy
    from linkdesk.intel.registry import build_provider
    from linkdesk.server import keys, monitor
    from linkdesk.server.db import make_engine, make_session_factory, migrate

    settings = server_settings(ctx.obj, database_url, key_file)
    _require_desk(ctx, settings, database_url)
    try:
        policy = load_policy(settings.risk_policy)
    except RiskPolicyError as exc:
        typer.echo(f"error: {clean_line(str(exc))}", err=True)
        raise typer.Exit(1) from None
    engine = make_engine(settings.database_url)
    try:
        with key_errors_exit():
            migrate(engine=engine)
            keyring = keys.open_keyring(engine, settings)
        provider = build_provider(settings.intel_provider, make_session_factory(engine), keyring)
        options = {"policy": policy, "recheck_after": timedelta(minutes=recheck_after), "batch": batch,
                   "limit": limit, "timeout": settings.intel_timeout}

        def show(summary: monitor.MonitorSummary) -> None:
            stamp = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M")
            typer.echo(f"{stamp}  {summary.text()}" if not once else summary.text())

        async def main() -> None:
            try:
                if once:
                    show(await monitor.run_once(engine, keyring, provider, datetime.now(UTC), **options))
                else:
                    await monitor.run_forever(engine, keyring, provider, every=timedelta(minutes=every),
                                              on_pass=show, **options)
            finally:
                await provider.aclose()

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
    finally:
        engine.dispose()
