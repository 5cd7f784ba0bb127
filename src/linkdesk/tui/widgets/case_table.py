"""A windowed case table over cursor pages.

The desk may hold a million cases; this table holds at most :attr:`WINDOW_PAGES`
pages of :attr:`PAGE_SIZE` rows in a stock ``DataTable``. When the cursor nears the
bottom of the window the next page is fetched in a worker and the top page is
dropped; the start cursor of every dropped page is kept on a stack so that moving up
fetches it again. The highlighted case stays highlighted while the window slides, and
moving the cursor inside the window fetches and re-renders nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import Worker

from linkdesk.domain.cases import CaseSummary
from linkdesk.domain.paging import Page
from linkdesk.domain.views import CaseQuery
from linkdesk.i18n import _
from linkdesk.tui import labels
from linkdesk.tui.labels import N_
from linkdesk.tui.safe import PRIORITY_STYLES, line, sla_text
from linkdesk.tui.workers import desk_work

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
# Cells are cut to width - 1 by display cells (CJK counts two), so columns never touch
# and Chinese lines up; the table itself runs with no cell padding to save room.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("ref", N_("ID"), 10),
    ("priority", N_("Priority"), 9),
    ("category", N_("Category"), 14),
    ("subject", N_("Subject"), 0),
    ("borrower", N_("Borrower"), 9),
    ("phone", N_("Phone"), 12),
    ("status", N_("Status"), 8),
    ("assignee", N_("Assignee"), 9),
    ("sla", N_("SLA"), 5),
)
MIN_SUBJECT_WIDTH = 16
OPTIONAL_COLUMNS = ("borrower", "assignee", "category", "priority")
"""Dropped in this order when the subject would get less than MIN_SUBJECT_WIDTH."""


def fit(text: Text, width: int) -> Text:
    """``text`` cut to ``width - 1`` display cells with an ellipsis, leaving a gap."""
    text = text.copy()
    text.truncate(max(1, width - 1), overflow="ellipsis")
    return text


@dataclass
class _Page:
    start: str | None
    items: list[CaseSummary]
    next: str | None


class CaseTable(DataTable[Text]):
    """Cases of one query, a sliding window of cursor pages."""

    PAGE_SIZE = 50
    WINDOW_PAGES = 3
    MARGIN = 10

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
    ]

    class Opened(Message):
        """The agent asked to open the highlighted case."""

        def __init__(self, ref: str) -> None:
            super().__init__()
            self.ref = ref

    class Moved(Message):
        """The cursor or the window moved; ``position`` describes where."""

        def __init__(self, position: str) -> None:
            super().__init__()
            self.position = position

    def __init__(
        self,
        fetch: Fetch,
        clock: Callable[[], datetime],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0)
        self._fetch = fetch
        self._clock = clock
        self.query_filter = CaseQuery()
        self._pages: list[_Page] = []
        self._above: list[tuple[str | None, int]] = []
        self._refs: list[str] = []
        self._subject_width = 0
        self._shown: tuple[str, ...] = tuple(key for key, _title, _width in COLUMNS)
        self._worker: Worker[None] | None = None
        self._rendering = False
        self.loaded = False
        self.fetch_count = 0

    # -- public surface ----------------------------------------------------------------

    @property
    def loading_page(self) -> bool:
        """A page is being fetched (the window slides when it arrives)."""
        return self._worker is not None and not self._worker.is_finished

    @property
    def highlighted_ref(self) -> str | None:
        row = self.cursor_row
        return self._refs[row] if 0 <= row < len(self._refs) else None

    @property
    def first_row_number(self) -> int:
        """1-based number of the window's first row in the whole result."""
        return sum(length for _start, length in self._above) + 1

    def load(self, query: CaseQuery) -> None:
        """Show ``query`` from its first page."""
        self.query_filter = query
        self.loaded = False
        self._worker = self._load_first()

    def reload(self) -> None:
        """Fetch the pages of the window again, keeping the highlighted case."""
        self._worker = self._reload_window(self.highlighted_ref)

    def retranslate(self) -> None:
        if self._pages:
            self._render_window(self.highlighted_ref, force_columns=True)

    # -- fetching ----------------------------------------------------------------------

    async def _get(self, cursor: str | None) -> Page[CaseSummary]:
        self.fetch_count += 1
        return await self._fetch(self.query_filter, cursor, self.PAGE_SIZE)

    @desk_work(group="case-window")
    async def _load_first(self) -> None:
        page = await self._get(None)
        self._pages = [_Page(None, page.items, page.next_cursor)]
        self._above = []
        self._render_window(None, reset=True)
        self.loaded = True

    @desk_work(group="case-window")
    async def _reload_window(self, keep: str | None) -> None:
        starts = [page.start for page in self._pages] or [None]
        pages: list[_Page] = []
        for start in starts:
            page = await self._get(start)
            pages.append(_Page(start, page.items, page.next_cursor))
            if page.next_cursor is None:
                break
        self._pages = pages
        self._render_window(keep)
        self.loaded = True

    @desk_work(group="case-window")
    async def _fetch_below(self) -> None:
        cursor = self._pages[-1].next
        page = await self._get(cursor)
        self._pages.append(_Page(cursor, page.items, page.next_cursor))
        if len(self._pages) > self.WINDOW_PAGES:
            dropped = self._pages.pop(0)
            self._above.append((dropped.start, len(dropped.items)))
        self._render_window(self.highlighted_ref)

    @desk_work(group="case-window")
    async def _fetch_above(self) -> None:
        start, _length = self._above[-1]
        page = await self._get(start)
        self._above.pop()
        self._pages.insert(0, _Page(start, page.items, page.next_cursor))
        if len(self._pages) > self.WINDOW_PAGES:
            self._pages.pop()
        self._render_window(self.highlighted_ref)

    # -- rendering ---------------------------------------------------------------------

    def _layout(self) -> tuple[tuple[str, ...], int]:
        """The columns that fit the table's width, and the subject's width.

        On a narrow terminal the least needed columns give way (borrower, then
        assignee, category, priority) before the subject shrinks below its minimum.
        """
        scrollbar = self.styles.scrollbar_size_vertical
        keys = [key for key, _title, _width in COLUMNS]
        widths = {key: width for key, _title, width in COLUMNS}
        for optional in (None, *OPTIONAL_COLUMNS):
            if optional is not None:
                keys.remove(optional)
            fixed = sum(widths[key] for key in keys)
            available = self.size.width - fixed - 2 * self.cell_padding * len(keys) - scrollbar
            if available >= MIN_SUBJECT_WIDTH:
                break
        return tuple(keys), max(MIN_SUBJECT_WIDTH, available)

    def _build_columns(self) -> None:
        self.clear(columns=True)
        self._shown, self._subject_width = self._layout()
        for key, title, width in COLUMNS:
            if key in self._shown:
                width = width or self._subject_width
                self.add_column(fit(Text(_(title), style="bold", end=""), width), width=width, key=key)

    def _cells(self, case: CaseSummary, now: datetime) -> list[Text]:
        cells = [
            Text(case.ref, style="bold", end=""),
            Text(labels.priority(case.priority), style=PRIORITY_STYLES[case.priority], end=""),
            Text(labels.category(case.category), end=""),
            line(case.subject),
            line(case.borrower_name),
            line(case.phone),
            Text(labels.status(case.status), style=STATUS_STYLES.get(case.status, ""), end=""),
            line(case.assignee or "—", "" if case.assignee else "dim"),
            sla_text(case.sla_due_at, now),
        ]
        return [
            fit(cell, width or self._subject_width)
            for cell, (key, _title, width) in zip(cells, COLUMNS, strict=True)
            if key in self._shown
        ]

    def _render_window(
        self, keep: str | None, *, reset: bool = False, force_columns: bool = False
    ) -> None:
        self._rendering = True
        try:
            self._fill(keep, reset=reset, force_columns=force_columns)
        finally:
            self._rendering = False
        self._post_position()

    def _fill(self, keep: str | None, *, reset: bool, force_columns: bool) -> None:
        old_row = self.cursor_row
        old_scroll = self.scroll_y
        if force_columns or self._layout() != (self._shown, self._subject_width) or not self.columns:
            self._build_columns()
        else:
            self.clear()
        rows = [case for page in self._pages for case in page.items]
        now = self._clock()
        self._refs = [case.ref for case in rows]
        for case in rows:
            self.add_row(*self._cells(case, now), key=case.ref)
        if not self.size.width:  # not laid out yet: size the subject column once it is
            self.call_after_refresh(self.on_resize)
        if not rows:
            return
        if reset or keep not in self._refs:
            new_row = 0 if reset else min(old_row, len(rows) - 1)
        else:
            new_row = self._refs.index(keep)
        # Keep the highlighted case where it was on screen while the window slides.
        target_scroll = 0 if reset else max(0, old_scroll + (new_row - old_row))
        self.cursor_coordinate = Coordinate(new_row, 0)
        self.call_after_refresh(self._settle_scroll, target_scroll)

    def _settle_scroll(self, target: float) -> None:
        self.scroll_to(y=target, animate=False, immediate=True)
        self._scroll_cursor_into_view()

    def on_resize(self) -> None:
        if self._pages and self.size.width and self._layout() != (self._shown, self._subject_width):
            self._render_window(self.highlighted_ref)

    # -- moving ------------------------------------------------------------------------

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        if old.row != new.row and not self._rendering:
            self._post_position()
            self._maybe_slide(new.row)

    def _maybe_slide(self, row: int) -> None:
        if self._rendering or self.loading_page or not self._pages:
            return
        if row >= self.row_count - self.MARGIN and self._pages[-1].next:
            self._worker = self._fetch_below()
        elif row < self.MARGIN and self._above:
            self._worker = self._fetch_above()

    def _post_position(self) -> None:
        if not self._refs:
            self.post_message(self.Moved(_("no cases")))
            return
        first = self.first_row_number
        last = first + len(self._refs) - 1
        more = "+" if self._pages and self._pages[-1].next else ""
        self.post_message(
            self.Moved(
                _(
                    "row {row} · rows {first}–{last}{more}",
                    row=first + self.cursor_row,
                    first=first,
                    last=last,
                    more=more,
                )
            )
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        ref = self.highlighted_ref
        if ref is not None:
            self.post_message(self.Opened(ref))
