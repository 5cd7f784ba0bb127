"""The revealed values of a case, each shown for the desk's display time, then masked.

A value lives only in this widget, in memory, for ``display_seconds``: then the panel
drops it and shows the masked form again. It never goes to a notification, the title,
a log, the clipboard (the panel cannot be selected) or a screenshot (the app refuses
one while :attr:`RevealPanel.showing`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from linkdesk.domain.reveal import Revealed, RevealField
from linkdesk.domain.text import clean_line
from linkdesk.i18n import _

TICK_SECONDS = 0.25


def readable_phone(e164: str) -> str:
    """``+8613812345678`` → ``138 1234 5678``; other numbers in international form."""
    value = clean_line(e164).strip()
    digits = value.removeprefix("+86")
    if value.startswith("+86") and len(digits) == 11 and digits.isdigit():
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    try:
        import phonenumbers  # only for numbers outside the mainland plan

        number = phonenumbers.parse(value, None)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except Exception:  # noqa: BLE001 - shown as sent rather than not at all
        return value


def readable_id_number(value: str) -> str:
    """An 18-character resident ID in its parts: region, birth date, sequence."""
    value = clean_line(value).strip()
    if len(value) == 18:
        return f"{value[:6]} {value[6:14]} {value[14:]}"
    return value


def readable(revealed: Revealed) -> str:
    if revealed.field is RevealField.PHONE:
        return readable_phone(revealed.value)
    if revealed.field is RevealField.ID_NUMBER:
        return readable_id_number(revealed.value)
    return clean_line(revealed.value)


@dataclass
class _Shown:
    label: str
    masked: str
    value: str | None
    """The readable value while shown; ``None`` once masked again."""
    deadline: float
    audit_seq: int


class RevealPanel(Widget):
    """Revealed values with their countdown; hidden until the first reveal."""

    ALLOW_SELECT = False  # nothing here may reach the clipboard
    DEFAULT_CSS = """
    RevealPanel {
        height: auto;
        display: none;
    }
    RevealPanel.-shown {
        display: block;
    }
    """

    showing: reactive[bool] = reactive(False)
    """A value is on screen right now."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._entries: list[_Shown] = []
        self._timer: Timer | None = None

    def show(self, revealed: Revealed, *, label: str, masked: str) -> None:
        """Show ``revealed`` for its ``display_seconds``; ``masked`` is what stays after."""
        # a second reveal of the same thing replaces the first
        self._entries = [entry for entry in self._entries if entry.label != label]
        self._entries.append(
            _Shown(
                label=label,
                masked=masked,
                value=readable(revealed),
                deadline=self._clock() + revealed.display_seconds,
                audit_seq=revealed.audit_seq,
            )
        )
        self.add_class("-shown")
        self.showing = True
        if self._timer is None:
            self._timer = self.set_interval(TICK_SECONDS, self._tick)
        self.refresh(layout=True)

    def watch_showing(self, showing: bool) -> None:
        self.set_class(showing, "-live")

    def seconds_left(self) -> list[int]:
        now = self._clock()
        return [max(0, math.ceil(entry.deadline - now)) for entry in self._entries if entry.value is not None]

    def _tick(self) -> None:
        now = self._clock()
        for entry in self._entries:
            if entry.value is not None and now >= entry.deadline:
                entry.value = None  # dropped: only the masked form is kept
        if not any(entry.value is not None for entry in self._entries):
            self.showing = False
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
        self.refresh(layout=True)

    def forget(self) -> None:
        """Mask everything now."""
        for entry in self._entries:
            entry.value = None
        self.showing = False
        self.refresh(layout=True)

    def on_unmount(self) -> None:
        self.forget()
        self._entries = []

    def render(self) -> Text:
        text = Text(end="")
        now = self._clock()
        for index, entry in enumerate(self._entries):
            if index:
                text.append("\n")
            if entry.value is not None:
                left = max(0, math.ceil(entry.deadline - now))
                text.append(" " + _("REVEALED") + " ", style="bold reverse")
                text.append("  " + entry.label + "  ")
                text.append(entry.value, style="bold")
                text.append("  " + _("masked again in {seconds}s", seconds=left), style="bold")
            else:
                text.append(" " + _("masked") + " ", style="dim reverse")
                text.append("  " + entry.label + "  ", style="dim")
                text.append(entry.masked, style="dim")
                text.append("  " + _("masked again"), style="dim")
            text.append("  · " + _("audit #{seq}", seq=entry.audit_seq), style="dim")
        return text
