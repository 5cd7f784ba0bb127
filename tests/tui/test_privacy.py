"""Privacy by construction in the console: sign-in, role-aware keys, reveal, the audit screen."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, OptionList, Select

from linkdesk.client import DeskClient
from linkdesk.domain.audit import AuditAction
from linkdesk.domain.cases import Case
from linkdesk.domain.desk_policy import DeskPolicyPatch
from linkdesk.domain.reveal import RevealField, RevealReason
from linkdesk.domain.views import CaseQuery, CaseState
from linkdesk.tui.widgets.reveal_panel import RevealPanel, readable_phone

from .conftest import Desk, settled, wait_for
from .test_walk import _plain, inbox_ready

SIZE = (140, 40)


async def a_case(client: DeskClient, *, state: CaseState, borrower: bool = True) -> Case:
    """A case of the demo desk in ``state`` with a number (and a borrower with bindings)."""
    cursor = None
    while True:
        page = await client.list_cases(CaseQuery(state=state), cursor=cursor, limit=100)
        for summary in page.items:
            case = await client.get_case(summary.ref)
            if case.phone and (not borrower or (case.borrower and case.borrower.bindings)):
                return case
        cursor = page.next_cursor
        assert cursor, f"the demo desk has no {state} case with a number"


async def open_case(pilot: Any, ref: str) -> Any:
    app = pilot.app
    await inbox_ready(pilot)
    app.router.go(f"case/{ref}")
    await wait_for(pilot, lambda: getattr(app.screen, "case", None) is not None)
    await settled(pilot)
    return app.screen


def key_bar(app: Any) -> str:
    """The key bar's line as the user sees it."""
    return _plain(app).splitlines()[-1]


async def fill_reveal(pilot: Any, *, what: int = 0, reason: str = "borrower_on_line", note: str = "caller on the line") -> Any:
    app = pilot.app
    await pilot.press("R")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "RevealDialog")
    dialog = app.screen
    dialog.query_one("#what", Select).value = what
    if reason:
        dialog.query_one("#reason", Select).value = reason
    dialog.query_one("#note", Input).value = note
    await pilot.pause()
    return dialog


async def test_the_console_signs_in_once_per_desk(desk: Desk, make_app: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 5555 10.0.0.2 22")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await inbox_ready(pilot)
        await wait_for(pilot, lambda: app.signed_in is not None and app.policy is not None)
        assert app.signed_in.role == "admin"
        await wait_for(pilot, lambda: "Audit" in key_bar(app) and "New case" in key_bar(app))
        # the desk goes away and comes back: checked again, not signed in again
        app.desk_unreachable()
        await wait_for(pilot, lambda: app.desk_status == "connected" and not any(
            w.group == "desk-monitor" and w.is_running for w in app.workers))
        await settled(pilot)
    logins = (await desk.client().audit(action=AuditAction.LOGIN)).items
    assert len(logins) == 1
    assert logins[0].detail["client"].startswith("console ") and logins[0].detail["client"].endswith(" over ssh")


async def test_reveal_shows_the_value_then_masks_it(desk: Desk, make_app: Any) -> None:
    admin = desk.client()
    await admin.change_desk_policy(DeskPolicyPatch(reveal_display_seconds=5))
    case = await a_case(admin, state=CaseState.OPEN)
    # what the number is, learnt the one legitimate way
    known = await admin.reveal(case.ref, RevealField.PHONE, reason=RevealReason.IDENTITY_VERIFICATION, note="test setup")
    shown = readable_phone(known.value)
    digits = known.value.removeprefix("+86")

    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_case(pilot, case.ref)
        assert "Reveal" in key_bar(app)
        dialog = await fill_reveal(pilot)
        assert "5 s" in _plain(app)  # the dialog says how long the value stays
        await pilot.press("ctrl+s")
        panel = screen.query_one(RevealPanel)
        await wait_for(pilot, lambda: app.screen is screen and panel.showing)
        await pilot.pause()
        text = _plain(app)
        assert shown in text
        assert "REVEALED" in text and "masked again in" in text
        assert f"{case.ref}" in text  # still the case screen
        # the timeline says who revealed what and why, never the value
        await wait_for(pilot, lambda: "revealed the number · borrower on the line" in _plain(app))
        assert not dialog.is_attached
        # no screenshot while it is shown
        assert app.deliver_screenshot() is None

        await wait_for(pilot, lambda: not panel.showing, timeout=15)
        await pilot.pause()
        text = _plain(app)
        assert shown not in text and digits not in text
        assert case.phone in text and "masked again" in text
        assert all(entry.value is None for entry in panel._entries)  # dropped from memory
        for _severity, message in app.notes:
            assert digits not in message and shown not in message
        assert digits not in app.title and digits not in (app.sub_title or "")
        assert all(digits not in str(event.data) for event in screen.events)


async def test_a_closed_case_refuses_the_reveal_with_the_reason(desk: Desk, make_app: Any) -> None:
    case = await a_case(desk.client(), state=CaseState.DONE)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(pilot, case.ref)
        dialog = await fill_reveal(pilot, note="ab")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "at least 4 characters" in _plain(app)  # refused before asking the desk

        dialog.query_one("#note", Input).value = "caller asks for the number"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "not open" in _plain(app))
        text = _plain(app)
        assert f"{case.ref} is {case.status}: reveals are only for" in text  # the desk's own words
        assert app.screen is dialog
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert not screen.query_one(RevealPanel).showing


async def test_the_hourly_limit_says_when_to_retry(desk: Desk, make_app: Any) -> None:
    admin = desk.client()
    await admin.change_desk_policy(DeskPolicyPatch(reveal_limit_per_hour=1))
    case = await a_case(admin, state=CaseState.OPEN)
    await admin.reveal(case.ref, RevealField.NAME, reason=RevealReason.BORROWER_ON_LINE, note="first one")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_case(pilot, case.ref)
        await fill_reveal(pilot)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Too many reveals" in _plain(app))
        assert "try again in 60 min" in _plain(app)


async def test_a_role_without_reveal_sees_no_reveal_key(desk: Desk, make_app: Any) -> None:
    from textual.command import CommandPalette

    token = desk.token_for("li.analyst", "risk_analyst")
    case = await a_case(desk.client(), state=CaseState.OPEN)
    app = make_app(connect=desk.connect_as(token))
    async with app.run_test(size=SIZE) as pilot:
        await inbox_ready(pilot)
        await wait_for(pilot, lambda: app.signed_in is not None)
        assert app.signed_in.role == "risk_analyst"
        assert "New case" in key_bar(app) and "Audit" not in key_bar(app)
        await pilot.press("a")  # no audit for this role
        await pilot.pause()
        assert type(app.screen).__name__ == "InboxScreen"
        app.router.go("audit")
        await wait_for(pilot, lambda: any("may not open audit" in m for _s, m in app.notes))
        assert type(app.screen).__name__ == "InboxScreen"

        screen = await open_case(pilot, case.ref)
        bar = key_bar(app)
        assert "Comment" in bar and "Status" in bar and "Reveal" not in bar
        await pilot.press("R")
        await pilot.pause()
        assert app.screen is screen

        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        assert "Reveal" not in _plain(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)

        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"reveal")
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert not any("Reveal" in p for p in prompts)
        await pilot.press("escape")


async def test_an_agent_may_reveal_the_number_but_not_the_id(desk: Desk, make_app: Any) -> None:
    token = desk.token_for("wang.fang", "agent")
    case = await a_case(desk.client(), state=CaseState.OPEN)
    app = make_app(connect=desk.connect_as(token))
    async with app.run_test(size=SIZE) as pilot:
        await open_case(pilot, case.ref)
        await wait_for(pilot, lambda: app.signed_in is not None)
        await pilot.press("R")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RevealDialog")
        labels = [choice.label for choice in app.screen.choices]
        assert "Case number" in labels and "Borrower's name" in labels
        assert "ID number" not in labels
        assert any(label.startswith("Number P-") for label in labels)


async def test_a_refusal_by_the_desk_is_shown_cleanly(desk: Desk, make_app: Any) -> None:
    from linkdesk.domain.agents import AgentPatch

    token = desk.token_for("wang.fang", "agent")
    case = await a_case(desk.client(), state=CaseState.OPEN)
    app = make_app(connect=desk.connect_as(token))
    async with app.run_test(size=SIZE) as pilot:
        await open_case(pilot, case.ref)
        await wait_for(pilot, lambda: app.signed_in is not None)
        # an admin takes the reveal away while the console still offers it
        await desk.client().change_agent("wang.fang", AgentPatch(role="risk_analyst"))
        await fill_reveal(pilot)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Your role may not reveal this" in _plain(app))
        shown = str(app.screen.query_one("#form-error").render())  # wrapped on screen
        assert "the risk_analyst role may not reveal.phone" in shown
        assert app.is_running


async def open_audit(pilot: Any) -> Any:
    app = pilot.app
    await inbox_ready(pilot)
    await wait_for(pilot, lambda: app.signed_in is not None)
    await pilot.press("a")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "AuditScreen")
    screen = app.screen
    await wait_for(pilot, lambda: screen.table.loaded and screen.chain is not None)
    await settled(pilot)
    return screen


async def test_the_audit_screen_lists_the_reveal_and_the_chain_is_intact(desk: Desk, make_app: Any) -> None:
    case = await a_case(desk.client(), state=CaseState.OPEN)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(pilot, case.ref)
        await fill_reveal(pilot, what=1, reason="identity_verification", note="checked with the caller")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen and screen.query_one(RevealPanel).showing)
        await pilot.press("escape")
        screen = await open_audit(pilot)
        text = _plain(app)
        assert "✔ intact" in text and "records" in text and "head " in text
        first = screen.table.get_row_at(0)
        assert [cell.plain for cell in first[3:]] == [
            "reveal", f"{case.borrower.ref}.name", case.ref, "identity verification"
        ]
        assert any(screen.table.get_row_at(i)[3].plain == "sign-in" for i in range(screen.table.row_count))

        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AuditRecordDialog")
        text = _plain(app)
        assert "checked with the caller" in text
        assert "the hash matches the record's contents" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "InboxScreen")


async def test_audit_filters_narrow_the_list(desk: Desk, make_app: Any) -> None:
    admin = desk.client()
    case = await a_case(admin, state=CaseState.OPEN)
    await admin.reveal(case.ref, RevealField.NAME, reason=RevealReason.BORROWER_ON_LINE, note="filter test")
    await admin.change_desk_policy(DeskPolicyPatch(reveal_display_seconds=20))
    token = desk.token_for("zhou.audit", "compliance")
    app = make_app(connect=desk.connect_as(token))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_audit(pilot)
        table = screen.table

        def shown(column: int) -> list[str]:
            return [table.get_row_at(i)[column].plain for i in range(table.row_count)]

        everything = table.row_count
        assert {"reveal", "sign-in", "settings change", "agent added"} <= set(shown(3))

        async def settle_on(condition: Any) -> None:
            await wait_for(pilot, lambda: table.loaded and not table.loading_page and condition())
            await settled(pilot)

        screen.query_one("#filter-action", Select).value = "reveal"
        await settle_on(lambda: table.filters.action == "reveal")
        assert 0 < table.row_count < everything and set(shown(3)) == {"reveal"}

        screen.query_one("#filter-action", Select).clear()
        await pilot.press("slash")
        assert screen.query_one("#filter-actor", Input).has_focus
        await pilot.press(*"zhou.audit")
        await settle_on(lambda: table.filters.actor == "zhou.audit")
        assert set(shown(2)) == {"zhou.audit"} and set(shown(3)) == {"sign-in"}

        screen.query_one("#filter-actor", Input).value = ""
        screen.query_one("#filter-case", Input).value = case.ref.lower()
        await settle_on(lambda: table.filters.case == case.ref)
        assert set(shown(5)) == {case.ref}

        screen.query_one("#filter-case", Input).value = ""
        screen.query_one("#filter-since", Input).value = "2026-13-01"
        await pilot.pause()
        assert "since: a date as YYYY-MM-DD" in _plain(app)
        screen.query_one("#filter-since", Input).value = "2026-11-19"
        screen.query_one("#filter-until", Input).value = "2026-11-21"
        await settle_on(lambda: table.filters.until is not None and table.filters.case is None)
        # the desk's clock stands at 2026-11-20 (the agents were added today, by the CLI)
        assert 0 < table.row_count <= everything
        assert {"reveal", "sign-in", "settings change"} <= set(shown(3))
        assert all(when[:10] in ("2026-11-19", "2026-11-20", "2026-11-21") for when in shown(1))
        screen.query_one("#filter-since", Input).value = "2099-01-01"
        screen.query_one("#filter-until", Input).value = ""
        await settle_on(lambda: table.filters.until is None)
        assert table.row_count == 0
        assert "No audit records match the filters." in _plain(app)


async def test_hostile_text_in_the_audit_chain_is_inert(desk: Desk, make_app: Any) -> None:
    from datetime import UTC, datetime

    from linkdesk.server import audit

    evil = "[@click=app.quit]boom[/] [b]x\x1b]52;c;AAAA\x07 \x1b[2J\x9b"
    with desk.session() as session:
        audit.append(
            session, at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC), actor=evil, action=AuditAction.EXPORT,
            target=evil, case=None, reason=evil, detail={"note": evil, "[red]k[/red]": [evil]},
        )
        session.commit()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_audit(pilot)
        text = _plain(app)
        assert "[@click=app.quit]boom[/]" in text
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
        assert "✔ intact" in text  # appended properly: the chain still holds
        rows = [screen.table.get_row_at(i) for i in range(screen.table.row_count)]
        hostile = next(i for i, row in enumerate(rows) if row[3].plain == "export")
        assert rows[hostile][2].plain.startswith("[@click=app.")
        await pilot.click("#audit-records", offset=(20, hostile + 1))  # the header is row 0
        assert screen.table.cursor_row == hostile
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AuditRecordDialog")
        text = _plain(app)
        assert "[@click=app.quit]boom[/] [b]x\ufffd]52;c;AAAA\ufffd" in text
        assert "[red]k[/red]" in text
        assert "\x1b" not in text and "\x07" not in text
        await pilot.click("#record-text")
        await pilot.press("escape")
        await settled(pilot)
        assert app.is_running and app.return_code is None


async def test_a_tampered_value_is_refused_with_the_field_named(desk: Desk, make_app: Any) -> None:
    from linkdesk.domain.refs import parse_case_ref
    from linkdesk.server.tables import CaseRow

    case = await a_case(desk.client(), state=CaseState.OPEN)
    with desk.session() as session:
        row = session.get(CaseRow, parse_case_ref(case.ref))
        blob = bytearray(row.phone_enc)
        blob[-1] ^= 0x01  # one bit of the stored number changed behind the desk's back
        row.phone_enc = bytes(blob)
        session.commit()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_case(pilot, case.ref)
        await fill_reveal(pilot)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "The stored value is damaged" in _plain(app))
        shown = str(app.screen.query_one("#form-error").render())
        assert "the stored phone of" in shown and "this was recorded" in shown
    failed = (await desk.client().audit(action=AuditAction.REVEAL_FAILED)).items
    assert [record.case for record in failed] == [case.ref]


async def test_the_audit_screen_from_the_palette_and_the_goto_prompt(make_app: Any) -> None:
    from textual.command import CommandPalette

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await inbox_ready(pilot)
        await wait_for(pilot, lambda: app.signed_in is not None)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"go to audit")
        options = app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: options.option_count > 0)
        assert "Go to audit" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AuditScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "InboxScreen")

        await pilot.press("colon")
        await wait_for(pilot, lambda: app.screen.query("#goto-input"))
        await pilot.press(*"audit", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AuditScreen")
        assert app.router.history[-1] == "audit"
        await wait_for(pilot, lambda: "intact" in _plain(app))
