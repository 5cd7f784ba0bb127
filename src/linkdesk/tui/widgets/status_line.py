"""The status line: desk, agent, connection and the screen's position text."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from linkdesk.domain.text import clean_line
from linkdesk.i18n import _


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        color: $foreground-muted;
        padding: 0 1;
    }
    """

    position: reactive[str] = reactive("")

    def on_mount(self) -> None:
        for attribute in ("desk_status", "retry_in", "agent_label"):
            if hasattr(self.app, attribute):
                self.watch(self.app, attribute, self._app_changed, init=False)

    def _app_changed(self, _value: object) -> None:
        self.refresh()

    def connection_text(self) -> tuple[str, str]:
        status = getattr(self.app, "desk_status", "connecting")
        if status == "connected":
            return "● " + _("connected"), "$text-success"
        if status == "unreachable":
            seconds = getattr(self.app, "retry_in", 0)
            return "● " + _("desk unreachable — retrying in {seconds}s", seconds=seconds), (
                "bold $text-error"
            )
        if status == "error":
            return "● " + _("desk refused the connection"), "bold $text-error"
        return "○ " + _("connecting…"), "$text-warning"

    def render(self) -> Content:
        desk = clean_line(getattr(self.app, "desk_label", ""))
        agent = clean_line(getattr(self.app, "agent_label", ""))
        connection, style = self.connection_text()
        parts: list[tuple[str, str] | str] = [
            (desk, "bold"),
            ("  │  ", "dim"),
            (_("agent {name}", name=agent) if agent else _("agent —"), ""),
            ("  │  ", "dim"),
            (connection, style),
        ]
        if self.position:
            parts += [("  │  ", "dim"), (self.position, "")]
        return Content.assemble(*parts)
