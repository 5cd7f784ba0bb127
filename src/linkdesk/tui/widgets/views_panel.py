"""The inbox's views list (built-in views, then the user's saved filters, each with its
count), the keys that reorder and delete saved views, and the prompt that names one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from linkdesk.domain.text import clean_line
from linkdesk.domain.views import View
from linkdesk.i18n import _
from linkdesk.tui import labels

SAVED_PREFIX = "saved:"
"""The id of a saved view is this and its name (names are unique)."""


def saved_id(name: str) -> str:
    return SAVED_PREFIX + name


def is_saved(view_id: str | None) -> bool:
    return bool(view_id and view_id.startswith(SAVED_PREFIX))


class ViewList(OptionList):
    """The inbox's views with their counts; a saved view is moved with shift+↑/↓ (K/J)
    and deleted with d or delete."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
        Binding("shift+up,K", "move(-1)", "Move up", show=False, id="views.move_up"),
        Binding("shift+down,J", "move(1)", "Move down", show=False, id="views.move_down"),
        Binding("d,delete", "delete_view", "Delete view", show=False, id="views.delete"),
    ]

    @dataclass
    class MoveRequested(Message):
        view_id: str
        step: int

    @dataclass
    class DeleteRequested(Message):
        view_id: str

    def show(self, views: list[View], *, capped: set[str], broken: set[str], current: str) -> None:
        """List ``views``; a count over the desk's cap reads "999+", one that failed "!"."""
        highlighted = self.highlighted
        highlighted_id = self.get_option_at_index(highlighted).id if highlighted is not None and (
            highlighted < self.option_count) else None
        self.clear_options()
        for view in views:
            # title on the left, cut if it must be; the count always whole on the right
            prompt = Table.grid(expand=True, padding=(0, 1, 0, 0))
            prompt.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
            prompt.add_column(justify="right", no_wrap=True, style="dim")
            if is_saved(view.id):
                title = Text("★ " + clean_line(view.title))  # a user's name: never translated
            else:
                title = Text(labels.view_title(view.title))
            count = "!" if view.id in broken else f"{view.count:,}+" if view.id in capped else f"{view.count:,}"
            prompt.add_row(title, Text(count))
            self.add_option(Option(prompt, id=clean_line(view.id)))
        ids = [view.id for view in views]
        for wanted in (highlighted_id, current):
            if wanted in ids:
                self.highlighted = ids.index(wanted)
                return
        if ids:
            self.highlighted = 0

    def _highlighted_saved(self) -> str | None:
        if self.highlighted is None:
            return None
        view_id = self.get_option_at_index(self.highlighted).id
        if not is_saved(view_id):
            self.notify(_("Only saved views can be moved or deleted"), markup=False, timeout=3)
            return None
        return view_id

    def action_move(self, step: int) -> None:
        view_id = self._highlighted_saved()
        if view_id:
            self.post_message(self.MoveRequested(view_id, step))

    def action_delete_view(self) -> None:
        view_id = self._highlighted_saved()
        if view_id:
            self.post_message(self.DeleteRequested(view_id))


class ViewNamePrompt(ModalScreen[str | None]):
    """Asks for the name of a view to save; enter saves, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, filter_text: str, suggested: str = "") -> None:
        super().__init__(classes="dialog")
        self.filter_text = filter_text
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(Content(_("Save the filter as a view")), classes="dialog-title")
            yield Static(Content(clean_line(self.filter_text)), id="view-filter")
            yield Input(value=self.suggested, placeholder=_("View name"), max_length=40, id="view-name")
            yield Static(Content(""), id="view-name-error", classes="field-error")
            yield Static(Content(_("enter save · esc cancel")), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#view-name")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = clean_line(event.value).strip()
        if not name:
            self.query_one("#view-name-error", Static).update(Content(_("Give the view a name")))
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
