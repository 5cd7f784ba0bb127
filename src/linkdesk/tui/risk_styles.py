"""How a risk score and its level look, in the inbox and on the case screen.

The desk says the level with every assessment; where only a score is known (an
inbox row) the level follows the default policy's thresholds: 30, 60, 85.
"""

from __future__ import annotations

from rich.text import Text

THRESHOLDS: tuple[tuple[int, str], ...] = ((85, "critical"), (60, "high"), (30, "medium"), (0, "low"))

LEVEL_STYLES: dict[str, str] = {
    "low": "#57ab5a",
    "medium": "#e8b04a",
    "high": "bold #ff9f1a",
    "critical": "bold #ff5f56",
}

CRITICAL_BADGE = "bold #ffffff on #c62828"


def level_of(score: int) -> str:
    """The level of ``score`` by the default thresholds (``low`` … ``critical``)."""
    return next(level for floor, level in THRESHOLDS if score >= floor)


def level_style(level: str | None) -> str:
    return LEVEL_STYLES.get(str(level or ""), "")


def badge_style(weight: int, critical: bool) -> str:
    """A signal's badge: red for a critical signal, then by how much it weighs."""
    if critical:
        return CRITICAL_BADGE
    if weight >= 30:
        return "bold #1a1a1a on #ff9f1a"
    if weight >= 15:
        return "#1a1a1a on #e8b04a"
    return "#ffffff on #5c6b7a"


def score_cell(score: int | None) -> Text:
    """An inbox cell: the score in its level's colour, ``—`` when unscored."""
    if score is None:
        return Text("—", style="dim", end="")
    return Text(str(score), style=level_style(level_of(score)), end="")
