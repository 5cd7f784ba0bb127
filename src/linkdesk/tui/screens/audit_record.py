"""One audit record whole: its fields, its detail, the hashes that chain it."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from linkdesk.domain.audit import AuditRecord, hash_of
from linkdesk.domain.text import clean, clean_line
from linkdesk.i18n import _
from linkdesk.tui import labels


def detail_value(value: object) -> str:
    """A detail value as the agent reads it: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record_text(record: AuditRecord) -> Text:
    """The record as literal text (everything from the desk cleaned, nothing parsed)."""
    text = Text(end="")

    def row(name: str, value: str, style: str = "") -> None:
        text.append(f"{name:<10} ", style="bold")
        text.append(clean_line(value), style=style)
        text.append("\n")

    row(_("Seq"), str(record.seq))
    row(_("Time"), record.at.astimezone().strftime("%Y-%m-%d %H:%M:%S %z"))
    row(_("Actor"), record.actor)
    action = labels.audit_action(record.action)
    row(_("Action"), action if action == record.action else f"{action} ({record.action})")
    row(_("Target"), record.target)
    row(_("Case"), record.case or "—")
    reason = labels.reveal_reason(record.reason)
    row(_("Reason"), reason if not record.reason or reason == record.reason else f"{reason} ({record.reason})")
    text.append("\n" + _("Detail") + "\n", style="bold underline")
    if not record.detail:
        text.append(_("none") + "\n", style="dim")
    for key, value in sorted(record.detail.items()):
        text.append(f"  {clean_line(str(key))}: ", style="bold")
        text.append(clean(detail_value(value)))
        text.append("\n")
    text.append("\n" + _("Chain") + "\n", style="bold underline")
    row(_("prev hash"), record.prev_hash, "dim")
    row(_("hash"), record.hash, "dim")
    if hash_of(record) == record.hash:
        text.append("✔ " + _("the hash matches the record's contents"), style="bold #57ab5a")
    else:
        text.append("✘ " + _("the hash does NOT match the record's contents"), style="bold #ff5f56")
    return text


class AuditRecordDialog(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="dialog.close"),
        Binding("enter", "close", show=False),
    ]

    def __init__(self, record: AuditRecord) -> None:
        super().__init__(classes="dialog")
        self.record = record

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box audit-record"):
            yield Static(Content(_("Audit record {seq}", seq=self.record.seq)), classes="dialog-title")
            with VerticalScroll(id="record-body"):
                yield Static(record_text(self.record), id="record-text")
            yield Static(Content(_("esc close")), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#record-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
