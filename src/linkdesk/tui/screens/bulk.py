"""Bulk work from the inbox: choose what to do with the marked cases, confirm it, send it
as one bulk change, and undo the last one.

:class:`BulkWork` runs the steps (called from the inbox's workers); the dialogs are the
tag entry and the confirmation, which says how many cases and what will change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from linkdesk.client.errors import ProblemError
from linkdesk.domain.bulk import MAX_REFS, BulkAction, BulkChange, BulkOutcome, UndoOutcome
from linkdesk.domain.cases import CaseStatus
from linkdesk.domain.text import clean_line
from linkdesk.i18n import _
from linkdesk.tui import labels
from linkdesk.tui.screens.dialogs import Picker

if TYPE_CHECKING:
    from linkdesk.client import DeskClient

SHOWN_REFS = 8
"""The confirmation lists this many refs, then "and N more"."""
SHOWN_REFUSALS = 3


def cases_text(count: int) -> str:
    return _("1 case") if count == 1 else _("{count} cases", count=count)


def describe(action: BulkAction, value: str | None, count: int, agent: str | None = None) -> str:
    """What the bulk change will do, as the confirmation says it."""
    cases = cases_text(count)
    if action is BulkAction.ASSIGN:
        if value is None:
            return _("Unassign {cases}", cases=cases)
        return _("Assign {cases} to {agent}", cases=cases, agent=clean_line(agent or value))
    if action is BulkAction.STATUS:
        return _("Set the status of {cases} to {status}", cases=cases,
                 status=labels.status(CaseStatus(value or "open")))
    if action is BulkAction.TAG:
        return _("Add the tag “{tag}” to {cases}", tag=clean_line(value or ""), cases=cases)
    if action is BulkAction.UNTAG:
        return _("Remove the tag “{tag}” from {cases}", tag=clean_line(value or ""), cases=cases)
    return _("Close {cases} (open ones are resolved, then closed)", cases=cases)


def done_text(change: BulkChange) -> str:
    """The notification after a bulk change: what changed, what was refused, undo."""
    changed = change.count(BulkOutcome.CHANGED)
    cases = cases_text(changed)
    action = change.action
    if action is BulkAction.ASSIGN:
        text = _("{cases} assigned", cases=cases) if change.value else _("{cases} unassigned", cases=cases)
    elif action is BulkAction.STATUS:
        text = _("{cases} set to {status}", cases=cases, status=labels.status(CaseStatus(change.value or "open")))
    elif action is BulkAction.TAG:
        text = _("{cases} tagged “{tag}”", cases=cases, tag=clean_line(change.value or ""))
    elif action is BulkAction.UNTAG:
        text = _("tag “{tag}” removed from {cases}", tag=clean_line(change.value or ""), cases=cases)
    else:
        text = _("{cases} closed", cases=cases)
    if change.id is not None:
        text += " — " + _("u to undo")
    unchanged = change.count(BulkOutcome.UNCHANGED)
    if unchanged:
        text += "\n" + _("{count} already so", count=unchanged)
    refused = [result for result in change.results if result.outcome is BulkOutcome.REFUSED]
    if refused:
        reasons = "; ".join(f"{r.ref}: {clean_line(r.reason or r.problem or '')}" for r in refused[:SHOWN_REFUSALS])
        more = len(refused) - SHOWN_REFUSALS
        text += "\n" + _("{count} refused: {reasons}", count=len(refused), reasons=reasons)
        if more > 0:
            text += " " + _("and {count} more", count=more)
    return text


class TagEntry(ModalScreen[str | None]):
    """One tag (1-40 characters); enter adds, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str) -> None:
        super().__init__(classes="dialog")
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box goto"):
            yield Static(Content(self.title_text), classes="dialog-title")
            yield Input(placeholder=_("tag, e.g. callback"), max_length=40, id="tag-input")
            yield Static(Content(""), id="tag-error", classes="field-error")
            yield Static(Content(_("enter choose · esc cancel")), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        tag = clean_line(event.value).strip()
        if not tag:
            self.query_one("#tag-error", Static).update(Content(_("Write a tag first")))
            return
        self.dismiss(tag)

    def action_cancel(self) -> None:
        self.dismiss(None)


class BulkConfirm(ModalScreen[bool]):
    """How many cases and what will change; enter or y goes ahead, escape or n not."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y", "confirm", "Confirm", id="dialog.confirm"),
        Binding("escape,n", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, summary: str, refs: list[str]) -> None:
        super().__init__(classes="dialog")
        self.summary = summary
        self.refs = refs

    def compose(self) -> ComposeResult:
        shown = ", ".join(self.refs[:SHOWN_REFS])
        if len(self.refs) > SHOWN_REFS:
            shown += " " + _("and {count} more", count=len(self.refs) - SHOWN_REFS)
        with Vertical(classes="dialog-box bulk-confirm"):
            yield Static(Content(_("Bulk change")), classes="dialog-title")
            yield Static(Content(self.summary), id="bulk-summary")
            yield Static(Content(clean_line(shown)), id="bulk-refs")
            yield Static(Content(_("Cases that cannot take the change are left as they are and listed.")),
                         classes="dialog-hint")
            yield Static(Content(_("enter confirm · esc cancel")), classes="dialog-hint")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class BulkWork:
    """The inbox's bulk steps; ``last`` is the agent's last bulk change in this console
    (the one ``u`` undoes)."""

    def __init__(self, screen: Any) -> None:
        self.screen = screen
        self.last: BulkChange | None = None

    @property
    def client(self) -> DeskClient:
        return self.screen.client  # type: ignore[no-any-return]

    async def choose_and_apply(self, refs: list[str]) -> BulkChange | None:
        """Ask what to do, confirm, send. None when the agent cancelled. Must run in a
        worker (it waits on dialogs)."""
        app = self.screen.app
        if len(refs) > MAX_REFS:
            self.screen.notify(_("A bulk change takes at most {limit} cases; {count} are marked",
                                 limit=MAX_REFS, count=len(refs)), severity="warning", markup=False)
            return None
        actions = [
            (Text(_("Assign…")), BulkAction.ASSIGN),
            (Text(_("Set status…")), BulkAction.STATUS),
            (Text(_("Add tag…")), BulkAction.TAG),
            (Text(_("Remove tag…")), BulkAction.UNTAG),
            (Text(_("Close")), BulkAction.CLOSE),
        ]
        action = await app.push_screen_wait(Picker(_("Bulk change: {cases}", cases=cases_text(len(refs))), actions))
        if action is None:
            return None
        value, agent = None, None
        if action is BulkAction.ASSIGN:
            chosen = await self._choose_agent()
            if chosen is None:
                return None
            value, agent = chosen
        elif action is BulkAction.STATUS:
            options = [(Text(labels.status(status)), str(status)) for status in CaseStatus]
            value = await app.push_screen_wait(Picker(_("Set status"), options))
            if value is None:
                return None
        elif action in (BulkAction.TAG, BulkAction.UNTAG):
            title = _("Add tag") if action is BulkAction.TAG else _("Remove tag")
            value = await app.push_screen_wait(TagEntry(title))
            if value is None:
                return None
        if not await app.push_screen_wait(BulkConfirm(describe(action, value, len(refs), agent), refs)):
            return None
        change = await self.client.bulk_change(refs, action, value)
        self.last = change if change.id is not None else self.last
        return change

    async def _choose_agent(self) -> tuple[str | None, str | None] | None:
        """(value, shown name): ``me``, None to unassign, or an agent's name."""
        agents = await self.client.agents()
        options: list[tuple[Text, Any]] = [
            (Text(_("me")), ("me", _("me"))),
            (Text(_("nobody (unassign)")), (None, None)),
        ]
        options += [
            (Text(f"{clean_line(a.display_name)} ({clean_line(a.name)})"), (a.name, clean_line(a.display_name)))
            for a in agents
        ]
        chosen = await self.screen.app.push_screen_wait(Picker(_("Assign to"), options))
        return chosen  # type: ignore[no-any-return]

    async def undo_last(self) -> bool:
        """Undo the last bulk change; False (and a notice) when there is none."""
        if self.last is None or self.last.id is None:
            self.screen.notify(_("Nothing to undo"), markup=False)
            return False
        try:
            result = await self.client.undo_bulk_change(self.last.id)
        except ProblemError:  # the desk said no (e.g. undone from elsewhere): say why, once
            self.last = None
            raise
        self.last = None
        text = _("Bulk change undone: {cases} restored", cases=cases_text(result.count(UndoOutcome.RESTORED)))
        skipped = result.count(UndoOutcome.SKIPPED)
        if skipped:
            text += "\n" + _("{cases} changed since, left as they are", cases=cases_text(skipped))
        self.screen.notify(text, markup=False)
        return True
