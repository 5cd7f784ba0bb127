"""The key bar: Textual's Footer with binding descriptions in the current language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from linkdesk.i18n import _


class KeyBar(Footer):
    """Binding descriptions are English msgids; they are translated as the bar composes.

    A language switch calls :meth:`recompose` (the router does, on every screen). Keys
    that do not fit beside the palette key are left out (the last ones first: the
    screen's own keys come before the global ones), rather than running under it —
    where a wide character cut in half garbles both.
    """

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.description:
                widget.description = _(widget.description)
            yield widget
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        if any(not key.display for key in self.query(FooterKey)):
            self.call_after_refresh(self.recompose)  # wider now: give the hidden keys a chance
        else:
            self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        keys = list(self.query(FooterKey))
        palette = next((key for key in keys if key.has_class("-command-palette")), None)
        limit = palette.virtual_region.x if palette is not None else self.size.width
        for key in keys:
            if key is not palette and key.display and key.virtual_region.right > limit:
                key.display = False
