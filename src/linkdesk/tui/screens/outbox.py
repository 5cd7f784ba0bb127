"""The sandbox SMS outbox (route ``outbox``, for roles with ``rebind.start``): what the
sandbox provider "sent", newest first, recipients masked, texts as sent — where whoever
plays the borrower reads a one-time code. A real SMS provider never writes it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import DataTable, Static

from linkdesk.domain.rebind import OutboxMessage
from linkdesk.i18n import _
from linkdesk.resources import stylesheet
from linkdesk.tui.safe import line, when
from linkdesk.tui.screens.base import DeskScreen
from linkdesk.tui.widgets.key_bar import KeyBar
from linkdesk.tui.widgets.status_line import StatusLine
from linkdesk.tui.widgets.title_bar import TitleBar
from linkdesk.tui.workers import desk_work

SHOWN = 100


class OutboxScreen(DeskScreen):
    CSS_PATH = stylesheet("outbox")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="outbox.refresh"),
        Binding("escape", "back", "Back", id="outbox.back"),
    ]

    def title_text(self) -> str:
        return _("SMS outbox (sandbox)")

    def compose(self) -> ComposeResult:
        yield TitleBar(self.title_text())
        yield Static(Content(_("Messages the sandbox SMS provider would have sent; a real provider never writes here.")),
                     id="outbox-note")
        yield DataTable(id="outbox-messages", cursor_type="row", zebra_stripes=True)
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(_("Sent at"), _("Recipient"), _("Case"), _("Message text"))
        table.focus()
        self.load()

    @desk_work(group="outbox-load")
    async def load(self) -> None:
        page = await self.client.sms_outbox(limit=SHOWN)
        self.show(page.items)

    def show(self, messages: list[OutboxMessage]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for message in messages:
            table.add_row(
                Text(when(message.sent_at), style="dim"), line(message.to), line(message.case or "—"),
                line(message.text), key=str(message.id),
            )
        self.set_position(_("{count} messages", count=len(messages)))

    def action_refresh(self) -> None:
        self.load()
