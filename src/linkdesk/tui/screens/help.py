"""``?``: the keys of the screen underneath, translated."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from linkdesk.i18n import _


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="dialog.close"),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box help"):
            yield Static(Content(_("Keys — {screen}", screen=self.title_text)), classes="dialog-title")
            table: DataTable[Text] = DataTable(id="help-keys", cursor_type="row", show_header=False)
            yield table
            yield Static(Content(_("esc close")), classes="dialog-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(Text(_("Key")), key="key")
        table.add_column(Text(_("Action")), key="action")
        for key, description in self.keys:
            table.add_row(Text(key, style="bold"), Text(description))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
