"""The key bar: Textual's Footer with binding descriptions in the current language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.geometry import Region
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from linkdesk.i18n import _


class KeyBar(Footer):
    """Binding descriptions are English msgids; they are translated as the bar composes.

    A language switch calls :meth:`recompose` (the router does, on every screen). Keys
    that do not fit beside the palette key are left out (the last ones first: the
    screen's own keys come before the global ones), rather than running under it —
    where a wide character cut in half garbles both.

    Fitting reads where the keys were laid out, so it waits for a layout that holds
    still: freshly mounted keys have no region yet, and a layout in progress can place
    the palette key anywhere. It looks again until two looks agree (or gives up after
    :attr:`FIT_LOOKS`), and only on the screen that is shown.
    """

    FIT_LOOKS = 100
    FIT_INTERVAL = 0.02
    """Seconds between looks at a layout still in progress."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.description:
                widget.description = _(widget.description)
            yield widget
        self._start_fitting()

    async def recompose(self) -> None:
        # the keys of a recompose (bindings changed) are mounted only now: fit them then
        await super().recompose()
        self._start_fitting()

    def on_resize(self) -> None:
        if any(not key.display for key in self.query(FooterKey)):
            self.call_after_refresh(self.recompose)  # wider now: give the hidden keys a chance
        else:
            self._start_fitting()

    def _start_fitting(self) -> None:
        self._fit_looks = 0
        self._fit_layout: tuple[Region, ...] | None = None
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        if not self.is_attached or not self.screen.is_current:
            return  # a screen underneath: fitted when it is shown again (its bindings change)
        keys = list(self.query(FooterKey))
        layout = tuple(key.virtual_region for key in keys if key.display)
        laid_out = bool(layout) and all(region.width for region in layout)
        if not laid_out or layout != self._fit_layout:
            self._fit_layout = layout
            self._fit_looks += 1
            if self._fit_looks <= self.FIT_LOOKS:
                self.set_timer(self.FIT_INTERVAL, self._fit)
            if not laid_out:
                return
        palette = next((key for key in keys if key.has_class("-command-palette")), None)
        limit = palette.virtual_region.x if palette is not None else self.size.width
        for key in keys:
            if key is not palette and key.display and key.virtual_region.right > limit:
                key.display = False
