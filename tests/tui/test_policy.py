"""The desk's policy in the settings screen: administrators change it, others never see it."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from .conftest import Desk, settled, wait_for
from .test_walk import _plain, inbox_ready


async def open_settings(pilot: Any) -> Any:
    app = pilot.app
    await inbox_ready(pilot)
    await wait_for(pilot, lambda: app.signed_in is not None)
    await pilot.press("comma")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "SettingsScreen")
    await settled(pilot)
    return app.screen


async def test_an_administrator_changes_the_reveal_policy(desk: Desk, make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await open_settings(pilot)
        assert "Desk policy (administrators)" in _plain(app)
        seconds = screen.query_one("#policy-seconds", Input)
        assert seconds.value == "30"
        seconds.value = "2"
        seconds.focus()
        await pilot.press("enter")
        screen.query_one("#policy-result").scroll_visible(animate=False)
        await wait_for(pilot, lambda: "Not saved" in _plain(app))
        seconds.value = "12"
        screen.query_one("#policy-limit", Input).value = "5"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Saved: 5 reveals an hour, shown 12 s" in _plain(app))
        assert app.policy.reveal_display_seconds == 12
    policy = await desk.client().desk_policy()
    assert (policy.reveal_limit_per_hour, policy.reveal_display_seconds) == (5, 12)


async def test_other_roles_do_not_see_the_desk_policy(desk: Desk, make_app: Any) -> None:
    app = make_app(connect=desk.connect_as(desk.token_for("qian.sup", "supervisor")))
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await open_settings(pilot)
        assert "Desk policy" not in _plain(app)
        assert not screen.query("#policy-seconds")
