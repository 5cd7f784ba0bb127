"""Desk text made safe for the terminal: cleaned of controls, never parsed as markup.

Every string that came from the desk reaches a widget through these helpers (or
``markup=False``): ``Text`` is never parsed for markup, and :func:`clean` replaces
escape sequences and C1 controls that would otherwise reach the terminal.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from linkdesk.domain.cases import Priority
from linkdesk.domain.sla import describe_remaining
from linkdesk.domain.text import clean, clean_line

PRIORITY_STYLES: dict[Priority, str] = {
    Priority.URGENT: "bold #ff5f56",
    Priority.HIGH: "bold #ff9f1a",
    Priority.NORMAL: "",
    Priority.LOW: "dim",
}
SOON_SECONDS = 4 * 3600


def line(value: str | None, style: str = "") -> Text:
    """One line of desk text (newlines folded), as a literal ``Text``."""
    return Text(clean_line(value or ""), style=style, end="")


def block(value: str | None, style: str = "") -> Text:
    """Multi-line desk text, as a literal ``Text``."""
    return Text(clean(value or ""), style=style, end="")


def sla_text(due: datetime, now: datetime) -> Text:
    """Time left until the SLA is due: red when overdue, orange within four hours."""
    remaining = (due - now).total_seconds()
    style = "bold #ff5f56" if remaining < 0 else "#ff9f1a" if remaining < SOON_SECONDS else ""
    return Text(describe_remaining(due, now), style=style, end="")


def when(moment: datetime) -> str:
    """A moment in the terminal's local time zone, to the minute."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def day(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d")
