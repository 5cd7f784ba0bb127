"""The inbox's table: the cases of one query, a sliding window of cursor pages
(see :class:`~linkdesk.tui.widgets.paged_table.PagedTable`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual._context import NoActiveAppError
from textual.binding import Binding, BindingType

from linkdesk.domain.cases import CaseSummary
from linkdesk.domain.paging import Page
from linkdesk.domain.views import CaseQuery
from linkdesk.tui import labels
from linkdesk.tui.labels import N_
from linkdesk.tui.risk_styles import score_cell
from linkdesk.tui.safe import PRIORITY_STYLES, line
from linkdesk.tui.sla_styles import SlaPalette, palette_of, sla_cell
from linkdesk.tui.widgets.paged_table import PagedTable, fit

__all__ = ["COLUMNS", "STATUS_STYLES", "CaseTable", "fit"]

Fetch = Callable[[CaseQuery, str | None, int], Awaitable[Page[CaseSummary]]]

STATUS_STYLES = {
    "new": "bold #5fafff",
    "open": "#3fb8af",
    "pending": "#e8b04a",
    "on_hold": "#b48ead",
    "resolved": "dim #57ab5a",
    "closed": "dim",
}

# (key, English heading, width incl. a one-cell gap); the subject takes what is left.
# The table runs with no cell padding to save room.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("ref", N_("ID"), 10),
    ("priority", N_("Priority"), 9),
    ("category", N_("Category"), 14),
    ("subject", N_("Subject"), 0),
    ("borrower", N_("Borrower"), 9),
    ("phone", N_("Phone"), 12),
    ("status", N_("Status"), 8),
    ("risk", N_("Risk"), 5),
    ("assignee", N_("Assignee"), 9),
    ("sla", N_("SLA"), 7),  # "-12m", "paused"
)


class CaseTable(PagedTable[CaseSummary]):
    """Cases of one query, a sliding window of cursor pages."""

    COLUMNS = COLUMNS
    OPTIONAL_COLUMNS = ("borrower", "assignee", "category", "priority", "risk")
    EMPTY_TEXT = N_("no cases")

    BINDINGS: ClassVar[list[BindingType]] = [
        # only while rows are marked; otherwise escape goes on to the inbox (clear filter)
        Binding("escape", "clear_marks", "Clear marks", show=False, id="inbox.clear_marks"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_marks":
            return bool(self.marked)
        return super().check_action(action, parameters)

    def action_clear_marks(self) -> None:
        self.clear_marks()

    def __init__(self, fetch: Fetch, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(clock=clock, id=id)
        self._fetch = fetch
        self.query_filter = CaseQuery()

    @property
    def highlighted_ref(self) -> str | None:
        return self.highlighted_key

    def load(self, query: CaseQuery) -> None:
        """Show ``query`` from its first page."""
        self.query_filter = query
        self.start()

    async def fetch_page(self, cursor: str | None, limit: int) -> Page[CaseSummary]:
        return await self._fetch(self.query_filter, cursor, limit)

    def row_key(self, item: CaseSummary) -> str:
        return item.ref

    def _sla_palette(self) -> SlaPalette:
        """The urgency colours of the current theme (the defaults outside a running app)."""
        try:
            theme = self.app.current_theme
        except NoActiveAppError:
            theme = None
        return palette_of(theme)

    def cells_of(self, item: CaseSummary, now: datetime | None) -> list[Text]:
        assert now is not None  # the inbox always has a clock
        return [
            Text(item.ref, style="bold", end=""),
            Text(labels.priority(item.priority), style=PRIORITY_STYLES[item.priority], end=""),
            Text(labels.category(item.category), end=""),
            line(item.subject),
            line(item.borrower_name),
            line(item.phone),
            Text(labels.status(item.status), style=STATUS_STYLES.get(item.status, ""), end=""),
            score_cell(getattr(item, "risk", None)),
            line(item.assignee or "—", "" if item.assignee else "dim"),
            sla_cell(item, now, self._sla_palette()),
        ]
