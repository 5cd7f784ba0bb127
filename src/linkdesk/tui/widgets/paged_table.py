"""A table that is a sliding window over cursor pages (the inbox's cases, the audit chain).

The desk may hold a million rows; this table holds at most :attr:`WINDOW_PAGES` pages
of :attr:`PAGE_SIZE` rows in a stock ``DataTable``. When the cursor nears the bottom of
the window the next page is fetched in a worker and the top page is dropped; the start
cursor of every dropped page is kept on a stack so that moving up fetches it again. The
highlighted row stays highlighted while the window slides, and moving the cursor inside
the window fetches and re-renders nothing.

Subclasses say what a page is (:meth:`fetch_page`), what identifies a row
(:meth:`row_key`) and what its cells are (:meth:`cells_of`, in :attr:`COLUMNS` order);
one column of width 0 takes the width the others leave.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import Worker

from linkdesk.domain.paging import Page
from linkdesk.i18n import _
from linkdesk.tui.labels import N_
from linkdesk.tui.workers import desk_work

T = TypeVar("T")


def fit(text: Text, width: int) -> Text:
    """``text`` cut to ``width - 1`` display cells with an ellipsis, leaving a gap."""
    text = text.copy()
    text.truncate(max(1, width - 1), overflow="ellipsis")
    return text


@dataclass
class _Page(Generic[T]):
    start: str | None
    items: list[T]
    next: str | None


class PagedTable(DataTable[Text], Generic[T]):
    """Rows of one query, a sliding window of cursor pages."""

    PAGE_SIZE = 50
    WINDOW_PAGES = 3
    MARGIN = 10

    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = ()
    """(key, English heading, width incl. a one-cell gap); width 0 takes what is left.
    Cells are cut to width - 1 by display cells (CJK counts two), so columns never touch."""
    OPTIONAL_COLUMNS: ClassVar[tuple[str, ...]] = ()
    """Dropped in this order when the flexible column would get less than MIN_FLEX_WIDTH."""
    MIN_FLEX_WIDTH = 16
    EMPTY_TEXT = N_("no rows")

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
    ]

    class Opened(Message):
        """The agent asked to open the highlighted row (``key``: a case ref, a record's seq)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

        @property
        def ref(self) -> str:
            return self.key

    class MarksChanged(Message):
        """Rows were marked or unmarked; ``keys`` are the marked rows' keys, in order."""

        def __init__(self, keys: list[str]) -> None:
            super().__init__()
            self.keys = keys

    class Moved(Message):
        """The cursor or the window moved; ``position`` describes where."""

        def __init__(self, position: str) -> None:
            super().__init__()
            self.position = position

    def __init__(self, *, clock: Callable[[], datetime] | None = None, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0)
        self._clock = clock
        self._pages: list[_Page[T]] = []
        self._above: list[tuple[str | None, int]] = []
        self._keys: list[str] = []
        self._flex_width = 0
        self._shown: tuple[str, ...] = tuple(key for key, _title, _width in self.COLUMNS)
        self._worker: Worker[None] | None = None
        self._rendering = False
        self.loaded = False
        self.fetch_count = 0
        self._marked: dict[str, None] = {}  # by key, not row: marks survive the window sliding
        self._mark_anchor: str | None = None

    # -- what a subclass says ----------------------------------------------------------

    async def fetch_page(self, cursor: str | None, limit: int) -> Page[T]:
        raise NotImplementedError

    def row_key(self, item: T) -> str:
        raise NotImplementedError

    def cells_of(self, item: T, now: datetime | None) -> list[Text]:
        """Every cell of ``item``, in :attr:`COLUMNS` order."""
        raise NotImplementedError

    # -- public surface ----------------------------------------------------------------

    @property
    def loading_page(self) -> bool:
        """A page is being fetched (the window slides when it arrives)."""
        return self._worker is not None and not self._worker.is_finished

    @property
    def highlighted_key(self) -> str | None:
        row = self.cursor_row
        return self._keys[row] if 0 <= row < len(self._keys) else None

    @property
    def items(self) -> list[T]:
        """The rows in the window, top first."""
        return [item for page in self._pages for item in page.items]

    @property
    def first_row_number(self) -> int:
        """1-based number of the window's first row in the whole result."""
        return sum(length for _start, length in self._above) + 1

    def start(self) -> None:
        """Show the query from its first page."""
        self.loaded = False
        self._worker = self._load_first()

    def reload(self) -> None:
        """Fetch the pages of the window again, keeping the highlighted row."""
        self._worker = self._reload_window(self.highlighted_key)

    # -- marks (bulk work) ---------------------------------------------------------------

    MARK_STYLE = "bold reverse"
    """A marked row's first cell (its key, e.g. the case ref) shows in reverse. Only the
    first: a style on every cell would hide the cursor's highlight on a marked row."""

    @property
    def marked(self) -> list[str]:
        """The keys of the marked rows, in the order they were marked."""
        return list(self._marked)

    def toggle_mark(self) -> None:
        """Mark the highlighted row, or unmark it if it was marked."""
        key = self.highlighted_key
        if key is None:
            return
        if key in self._marked:
            del self._marked[key]
        else:
            self._marked[key] = None
            self._mark_anchor = key
        self._marks_changed([key])

    def mark_range(self) -> None:
        """Mark every row from the last marked one to the highlighted one (both
        included); without a marked row in the window, the highlighted row."""
        key = self.highlighted_key
        if key is None:
            return
        here = self._keys.index(key)
        anchor = self._keys.index(self._mark_anchor) if self._mark_anchor in self._keys else here
        low, high = sorted((anchor, here))
        keys = self._keys[low : high + 1]
        for row_key in keys:
            self._marked[row_key] = None
        self._mark_anchor = key
        self._marks_changed(keys)

    def extend_mark(self, step: int) -> None:
        """Mark the highlighted row, move by ``step`` rows and mark that one too."""
        key = self.highlighted_key
        if key is None:
            return
        self._marked[key] = None
        row = max(0, min(self.row_count - 1, self.cursor_row + step))
        self.move_cursor(row=row)
        changed = [key]
        moved_to = self.highlighted_key
        if moved_to is not None:
            self._marked[moved_to] = None
            changed.append(moved_to)
            self._mark_anchor = moved_to
        self._marks_changed(changed)

    def clear_marks(self) -> None:
        keys = list(self._marked)
        self._marked.clear()
        self._mark_anchor = None
        self._marks_changed(keys)

    def _marks_changed(self, keys: list[str]) -> None:
        now = self._clock() if self._clock is not None else None
        items = {self.row_key(item): item for item in self.items}
        for key in keys:
            item = items.get(key)
            if item is None:
                continue
            shown = [k for k, _title, _width in self.COLUMNS if k in self._shown]
            for column, cell in zip(shown, self._cells(item, now), strict=True):
                self.update_cell(key, column, cell)
        self.post_message(self.MarksChanged(self.marked))
        self._post_position()

    def retranslate(self) -> None:
        if self._pages:
            self._render_window(self.highlighted_key, force_columns=True)

    # -- fetching ----------------------------------------------------------------------

    async def _get(self, cursor: str | None) -> Page[T]:
        self.fetch_count += 1
        return await self.fetch_page(cursor, self.PAGE_SIZE)

    @desk_work(group="table-window")
    async def _load_first(self) -> None:
        page = await self._get(None)
        self._pages = [_Page(None, page.items, page.next_cursor)]
        self._above = []
        self._render_window(None, reset=True)
        self.loaded = True

    @desk_work(group="table-window")
    async def _reload_window(self, keep: str | None) -> None:
        starts = [page.start for page in self._pages] or [None]
        pages: list[_Page[T]] = []
        for start in starts:
            page = await self._get(start)
            pages.append(_Page(start, page.items, page.next_cursor))
            if page.next_cursor is None:
                break
        self._pages = pages
        self._render_window(keep)
        self.loaded = True

    @desk_work(group="table-window")
    async def _fetch_below(self) -> None:
        cursor = self._pages[-1].next
        page = await self._get(cursor)
        self._pages.append(_Page(cursor, page.items, page.next_cursor))
        if len(self._pages) > self.WINDOW_PAGES:
            dropped = self._pages.pop(0)
            self._above.append((dropped.start, len(dropped.items)))
        self._render_window(self.highlighted_key)

    @desk_work(group="table-window")
    async def _fetch_above(self) -> None:
        start, _length = self._above[-1]
        page = await self._get(start)
        self._above.pop()
        self._pages.insert(0, _Page(start, page.items, page.next_cursor))
        if len(self._pages) > self.WINDOW_PAGES:
            self._pages.pop()
        self._render_window(self.highlighted_key)

    # -- columns -----------------------------------------------------------------------

    def _layout(self) -> tuple[tuple[str, ...], int]:
        """The columns that fit the table's width, and the flexible column's width.

        On a narrow terminal the optional columns give way (in their order) before the
        flexible column shrinks below its minimum.
        """
        scrollbar = self.styles.scrollbar_size_vertical
        keys = [key for key, _title, _width in self.COLUMNS]
        widths = {key: width for key, _title, width in self.COLUMNS}
        available = 0
        for optional in (None, *self.OPTIONAL_COLUMNS):
            if optional is not None:
                keys.remove(optional)
            fixed = sum(widths[key] for key in keys)
            available = self.size.width - fixed - 2 * self.cell_padding * len(keys) - scrollbar
            if available >= self.MIN_FLEX_WIDTH:
                break
        return tuple(keys), max(self.MIN_FLEX_WIDTH, available)

    def _build_columns(self) -> None:
        self.clear(columns=True)
        self._shown, self._flex_width = self._layout()
        for key, title, width in self.COLUMNS:
            if key in self._shown:
                width = width or self._flex_width
                self.add_column(fit(Text(_(title), style="bold", end=""), width), width=width, key=key)

    def _cells(self, item: T, now: datetime | None) -> list[Text]:
        """The cells of the shown columns, each cut to its column (a marked row's first
        cell filled out in the mark's style)."""
        cells = [
            (fit(cell, width or self._flex_width), width or self._flex_width)
            for cell, (key, _title, width) in zip(self.cells_of(item, now), self.COLUMNS, strict=True)
            if key in self._shown
        ]
        if self.row_key(item) not in self._marked:
            return [cell for cell, _width in cells]
        first, width = cells[0]
        first.pad_right(max(0, width - 1 - first.cell_len))  # the gap stays unstyled
        first.stylize(self.MARK_STYLE)
        return [first, *(cell for cell, _width in cells[1:])]

    # -- rendering ---------------------------------------------------------------------

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
        if force_columns or self._layout() != (self._shown, self._flex_width) or not self.columns:
            self._build_columns()
        else:
            self.clear()
        rows = self.items
        now = self._clock() if self._clock is not None else None
        self._keys = [self.row_key(item) for item in rows]
        for item, key in zip(rows, self._keys, strict=True):
            self.add_row(*self._cells(item, now), key=key)
        if not self.size.width:  # not laid out yet: size the flexible column once it is
            self.call_after_refresh(self.on_resize)
        if not rows:
            return
        if reset or keep not in self._keys:
            new_row = 0 if reset else min(old_row, len(rows) - 1)
        else:
            new_row = self._keys.index(keep)
        # Keep the highlighted row where it was on screen while the window slides.
        target_scroll = 0 if reset else max(0, old_scroll + (new_row - old_row))
        self.cursor_coordinate = Coordinate(new_row, 0)
        self.call_after_refresh(self._settle_scroll, target_scroll)

    def _settle_scroll(self, target: float) -> None:
        self.scroll_to(y=target, animate=False, immediate=True)
        self._scroll_cursor_into_view()

    def on_resize(self) -> None:
        if self._pages and self.size.width and self._layout() != (self._shown, self._flex_width):
            self._render_window(self.highlighted_key)

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
        if not self._keys:
            self.post_message(self.Moved(_(self.EMPTY_TEXT)))
            return
        first = self.first_row_number
        last = first + len(self._keys) - 1
        more = "+" if self._pages and self._pages[-1].next else ""
        position = _(
            "row {row} · rows {first}–{last}{more}",
            row=first + self.cursor_row,
            first=first,
            last=last,
            more=more,
        )
        if self._marked:
            position += " · " + _("{count} marked", count=len(self._marked))
        self.post_message(self.Moved(position))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = self.highlighted_key
        if key is not None:
            self.post_message(self.Opened(key))
