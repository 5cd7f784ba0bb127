"""Layout snapshots (deterministic demo desk, fixed clock, 120x36)."""

from __future__ import annotations

from typing import Any

from .conftest import settled, wait_for
from .test_walk import inbox_ready

SIZE = (120, 36)


def test_inbox_layout(snap_compare: Any, make_app: Any) -> None:
    async def ready(pilot: Any) -> None:
        await inbox_ready(pilot)
        await pilot.press("j", "j")
        await settled(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=ready)


def test_case_layout(snap_compare: Any, make_app: Any) -> None:
    async def ready(pilot: Any) -> None:
        await inbox_ready(pilot)
        pilot.app.router.go("case/LD-000005")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "case", None) is not None)
        await settled(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=ready)


def test_inbox_layout_in_chinese(snap_compare: Any, make_app: Any) -> None:
    from .conftest import make_settings

    async def ready(pilot: Any) -> None:
        await inbox_ready(pilot)
        await settled(pilot)

    assert snap_compare(make_app(make_settings(language="zh_CN")), terminal_size=SIZE, run_before=ready)


def test_audit_layout(snap_compare: Any, make_app: Any, monkeypatch: Any) -> None:
    from linkdesk.domain.reveal import RevealField, RevealReason

    monkeypatch.delenv("SSH_CONNECTION", raising=False)  # the sign-in record says how it came

    async def ready(pilot: Any) -> None:
        await inbox_ready(pilot)
        await pilot.app.client.reveal(
            "LD-000005", RevealField.PHONE, reason=RevealReason.BORROWER_ON_LINE, note="borrower on the line"
        )
        await wait_for(pilot, lambda: pilot.app.signed_in is not None)
        pilot.app.router.go("audit")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "AuditScreen")
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.is_mounted and screen.chain is not None)
        await wait_for(pilot, lambda: screen.table.loaded)
        await settled(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=ready)
