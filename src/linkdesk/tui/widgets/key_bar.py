"""The key bar: Textual's Footer with binding descriptions in the current language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from linkdesk.i18n import _


class KeyBar(Footer):
    """Binding descriptions are English msgids; they are translated as the bar composes.

    A language switch calls :meth:`recompose` (the router does, on every screen).
    """

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.description:
                widget.description = _(widget.description)
            yield widget
