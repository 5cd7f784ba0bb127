"""The line at the top: product, desk and where the agent is."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from linkdesk.domain.text import clean_line


class TitleBar(Widget):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    location: reactive[str] = reactive("")

    def __init__(self, location: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(TitleBar.location, location)

    def render(self) -> Content:
        desk = clean_line(getattr(self.app, "desk_label", ""))
        return Content.assemble(
            (" ◆ LinkDesk ", "bold $text-primary"),
            ("│ ", "dim"),
            (desk, "$text-accent"),
            ("  ›  ", "dim"),
            (clean_line(self.location), "bold"),
        )
