"""How SLA urgency looks: the inbox's time-left cell and the case screen's due times.

Colours come from the theme: its ``sla-breached``, ``sla-soon`` and ``sla-today``
variables (``themes/*.toml``, ``[variables]``), falling back to the theme's error,
warning and accent colours, so a user theme without them still tells urgency apart.
Breached is bold, paused is dim and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text

from linkdesk.domain.sla import Urgency, describe_remaining, urgency
from linkdesk.i18n import _

FALLBACK = {"sla-breached": "#ff5f56", "sla-soon": "#ff9f1a", "sla-today": "#e8d44d"}


@dataclass(frozen=True)
class SlaPalette:
    breached: str
    soon: str
    today: str

    def style(self, level: Urgency) -> str:
        return {
            Urgency.BREACHED: f"bold {self.breached}",
            Urgency.SOON: self.soon,
            Urgency.TODAY: self.today,
            Urgency.PAUSED: "dim",
            Urgency.DONE: "dim",
        }.get(level, "")


def palette_of(theme: Any) -> SlaPalette:
    """The SLA colours of a Textual theme (or the defaults when there is none)."""
    variables = getattr(theme, "variables", None) or {}

    def pick(name: str, fallback: str | None) -> str:
        return variables.get(name) or fallback or FALLBACK[name]

    return SlaPalette(
        breached=pick("sla-breached", getattr(theme, "error", None)),
        soon=pick("sla-soon", getattr(theme, "warning", None)),
        today=pick("sla-today", getattr(theme, "accent", None)),
    )


def urgency_of(item: Any, now: datetime) -> Urgency:
    """The urgency of a ``CaseSummary`` or ``Case``."""
    return urgency(
        now=now,
        due=item.sla_due_at,
        is_open=str(item.status) not in ("resolved", "closed"),
        paused=getattr(item, "sla_paused", False),
        soon=getattr(item, "sla_soon_at", None),
        first_response_due=getattr(item, "first_response_due_at", None),
        first_responded=getattr(item, "first_responded_at", None),
    )


def sla_cell(item: Any, now: datetime, palette: SlaPalette) -> Text:
    """The inbox cell: time left (``3h``, ``-2d``), coloured by urgency; ``paused``
    while the case waits on the customer."""
    level = urgency_of(item, now)
    if level is Urgency.PAUSED:
        return Text(_("paused"), style=palette.style(level), end="")
    return Text(describe_remaining(item.sla_due_at, now), style=palette.style(level), end="")


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def sla_summary(case: Any, now: datetime, palette: SlaPalette) -> Text:
    """The case screen's SLA part: resolution time left and due time, paused state, and
    the first response (due when, overdue, or answered)."""
    text = Text(end="")
    text.append(_("SLA") + " ")
    text.append_text(sla_cell(case, now, palette))
    text.append(f" ({_when(case.sla_due_at)})", style="dim")
    if getattr(case, "sla_paused", False):
        text.append("  " + _("clock paused while pending"), style="dim")
    first_due = getattr(case, "first_response_due_at", None)
    answered = getattr(case, "first_responded_at", None)
    if answered is not None:
        text.append("  ·  " + _("first response {when}", when=_when(answered)), style="dim")
    elif first_due is not None:
        overdue = first_due <= now and not getattr(case, "sla_paused", False)
        text.append("  ·  " + _("first response due {when}", when=_when(first_due)),
                    style=palette.soon if overdue else "")
    return text


def sla_event_text(kind: str, data: dict[str, Any]) -> Text:
    """The body of an ``sla_breach`` or ``sla_pause`` timeline event."""
    if kind == "sla_breach":
        target = _("first response") if data.get("target") == "first_response" else _("resolution")
        due = data.get("due")
        try:
            due_text = _when(datetime.fromisoformat(str(due)))
        except ValueError:
            due_text = "?"
        return Text(_("{target} target passed (due {due})", target=target, due=due_text), end="")
    if data.get("paused"):
        return Text(_("SLA clock paused: pending on the customer"), style="dim", end="")
    seconds = int(data.get("business_seconds") or 0)
    hours, minutes = divmod(seconds // 60, 60)
    return Text(_("SLA clock resumed: due dates moved out by {hours}h {minutes}m of business time",
                  hours=hours, minutes=minutes), style="dim", end="")
