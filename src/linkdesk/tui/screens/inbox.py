"""The inbox (route ``inbox``): views on the left, the windowed case table, a filter."""

from __future__ import annotations

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from linkdesk.domain.cases import Case, CaseSummary
from linkdesk.domain.paging import Page
from linkdesk.domain.permissions import Permission
from linkdesk.domain.text import clean_line
from linkdesk.domain.views import CaseQuery, CaseSort, View
from linkdesk.i18n import _
from linkdesk.resources import stylesheet
from linkdesk.tui import labels
from linkdesk.tui.filter_terms import parse_filter
from linkdesk.tui.labels import N_
from linkdesk.tui.screens.base import DeskReconnected, DeskScreen
from linkdesk.tui.widgets.case_table import CaseTable
from linkdesk.tui.widgets.key_bar import KeyBar
from linkdesk.tui.widgets.status_line import StatusLine
from linkdesk.tui.widgets.title_bar import TitleBar
from linkdesk.tui.workers import desk_work

FILTER_PLACEHOLDER = N_("Filter: words, 换号, LD-000123, last 4 digits, risk:>=60")


class ViewList(OptionList):
    """The inbox's views with their counts."""

    BINDINGS = [
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
    ]


class InboxScreen(DeskScreen):
    CSS_PATH = stylesheet("inbox")
    # under 100 columns the views list hides (``v`` shows it) and the table drops columns
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="inbox.filter"),
        Binding("r", "refresh", "Refresh", id="inbox.refresh"),
        Binding("n", "new_case", "New case", id="inbox.new"),
        Binding("enter", "open", "Open", id="inbox.open", show=True),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="inbox.clear"),
        Binding("v", "views", "Views", id="inbox.views"),
        Binding("o", "sort", "Sort", id="inbox.sort"),
        Binding("a", "audit", "Audit", id="inbox.audit"),
    ]
    ACTION_PERMISSIONS = {
        "new_case": (Permission.CASES_CREATE,),
        "audit": (Permission.AUDIT_READ,),
    }

    SORTS = (CaseSort.UPDATED_DESC, CaseSort.DUE, CaseSort.CREATED_DESC)
    """What ``o`` cycles through: latest activity, SLA due soonest, newest."""
    SORT_NAMES = {
        CaseSort.UPDATED_DESC: N_("latest activity"),
        CaseSort.DUE: N_("SLA due soonest"),
        CaseSort.CREATED_DESC: N_("newest"),
    }
    COUNTS_EVERY = 60.0
    """Seconds between refreshes of the views' counts (the table keeps its cursor)."""

    def __init__(self) -> None:
        super().__init__()
        self.views: list[View] = []
        self.view_id = "open"
        self.sort = CaseSort.UPDATED_DESC

    def title_text(self) -> str:
        return _("Inbox")

    def compose(self) -> ComposeResult:
        yield TitleBar(self.title_text())
        with Horizontal(id="inbox-body"):
            yield ViewList(markup=False, id="views")
            with Vertical(id="inbox-main"):
                yield Input(placeholder=_(FILTER_PLACEHOLDER), id="filter")
                yield Static(id="filter-error")
                yield CaseTable(self._fetch_page, self.app.clock, id="cases")  # type: ignore[attr-defined]
                yield Static(id="empty")
        yield StatusLine()
        yield KeyBar()

    async def _fetch_page(self, query: CaseQuery, cursor: str | None, limit: int) -> Page[CaseSummary]:
        if cursor is None:
            first = await self.app.take_first_page(query, limit)  # type: ignore[attr-defined]
            if first is not None:
                return first
        return await self.client.list_cases(query, cursor=cursor, limit=limit)

    @property
    def table(self) -> CaseTable:
        return self.query_one(CaseTable)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#filter-error", Static).display = False
        self.table.focus()
        self.table.load(self.current_query())
        self.load_views()
        self.set_interval(self.COUNTS_EVERY, self.load_views)

    # -- views -------------------------------------------------------------------------

    def current_view(self) -> View | None:
        return next((view for view in self.views if view.id == self.view_id), None)

    def current_query(self) -> CaseQuery:
        """The view's query, narrowed by the filter's text and terms (``risk:>=60``);
        a malformed term is left out (and pointed at, see :meth:`show_filter_errors`)."""
        view = self.current_view()
        query = view.query if view else CaseQuery()
        terms = parse_filter(self.query_one("#filter", Input).value)
        update: dict[str, object] = {"q": terms.text or None, "sort": self.sort}
        if terms.risk_min is not None:
            update["risk_min"] = terms.risk_min
        return query.model_copy(update=update)

    def action_sort(self) -> None:
        self.sort = self.SORTS[(self.SORTS.index(self.sort) + 1) % len(self.SORTS)]
        self.table.load(self.current_query())
        self.notify(_("Sorted by {order}", order=_(self.SORT_NAMES[self.sort])), timeout=2, markup=False)

    @desk_work(group="views")
    async def load_views(self) -> None:
        self.views = await self.app.take_views() or await self.client.views()  # type: ignore[attr-defined]
        self.render_views()

    def render_views(self) -> None:
        views = self.query_one(ViewList)
        highlighted = views.highlighted
        views.clear_options()
        for view in self.views:
            # title on the left, cut if it must be; the count always whole on the right
            prompt = Table.grid(expand=True, padding=(0, 1, 0, 0))
            prompt.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
            prompt.add_column(justify="right", no_wrap=True, style="dim")
            prompt.add_row(Text(labels.view_title(view.title)), Text(f"{view.count:,}"))
            views.add_option(Option(prompt, id=clean_line(view.id)))
        if self.views:
            index = next((i for i, v in enumerate(self.views) if v.id == self.view_id), 0)
            views.highlighted = highlighted if highlighted is not None else index

    @on(OptionList.OptionSelected, "#views")
    def _view_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.view_id = event.option_id or "open"
        self.table.load(self.current_query())
        self.table.focus()

    # -- table -------------------------------------------------------------------------

    @on(CaseTable.Opened)
    def _open(self, event: CaseTable.Opened) -> None:
        self.router.go("case", ref=event.key)

    @on(CaseTable.Moved)
    def _moved(self, event: CaseTable.Moved) -> None:
        self.set_position(event.position)
        self.show_empty_state()

    def show_empty_state(self) -> None:
        """Say why the table is empty and what to do, instead of a blank table."""
        empty = self.query_one("#empty", Static)
        nothing = self.table.loaded and self.table.row_count == 0
        empty.display = nothing
        self.set_class(nothing, "-empty")
        if nothing:
            filtered = bool(self.query_one("#filter", Input).value.strip())
            if filtered:
                message = _("Nothing matches the filter. Press escape to clear it.")
            elif self.check_action("new_case", ()):
                message = _("No cases in this view. Press n to create one, or choose another view.")
            else:
                message = _("No cases in this view. Choose another view.")
            empty.update(Content(message))

    def permissions_changed(self) -> None:
        self.show_empty_state()

    def action_views(self) -> None:
        views = self.query_one(ViewList)
        if self.has_class("-narrow"):
            self.toggle_class("-show-views")
        if views.display and self.has_class("-wide") or self.has_class("-show-views"):
            views.focus()
        else:
            self.table.focus()

    def action_open(self) -> None:
        ref = self.table.highlighted_ref
        if ref:
            self.router.go("case", ref=ref)

    def action_audit(self) -> None:
        self.router.go("audit")

    def action_refresh(self) -> None:
        self.table.reload()
        self.load_views()

    def on_desk_reconnected(self, _message: DeskReconnected) -> None:
        self.table.load(self.current_query())
        self.load_views()

    # -- filter ------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        if self.show_filter_errors():
            return  # keep the rows of the last filter that parsed while the term is mended
        self.table.load(self.current_query())

    def show_filter_errors(self) -> bool:
        """Point at the first malformed term under the filter; whether there is one."""
        box = self.query_one("#filter", Input)
        line = self.query_one("#filter-error", Static)
        errors = parse_filter(box.value).errors
        line.display = bool(errors)
        if not errors:
            return False
        error = errors[0]
        # the carets sit under the term (the input's border and padding come first)
        before = box.gutter.left + cell_len(box.value[: error.start]) - round(box.scroll_x)
        width = max(1, cell_len(error.term))
        pointer = Content.assemble(
            " " * max(0, before),
            ("^" * width, "bold $error"),
            " ",
            (error.message, "$error"),
        )
        if pointer.cell_length > self.query_one("#inbox-main").size.width:
            pointer = Content.assemble((f"“{error.term}”: ", "bold $error"), (error.message, "$error"))
        line.update(pointer)
        return True

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.display and not box.value:
            return
        had_text = bool(box.value)
        with box.prevent(Input.Changed):
            box.value = ""
        box.display = False
        self.show_filter_errors()
        self.table.focus()
        if had_text:
            self.table.load(self.current_query())

    # -- new case ----------------------------------------------------------------------

    def action_new_case(self) -> None:
        from linkdesk.tui.screens.new_case import NewCaseScreen  # on first use

        self.app.push_screen(NewCaseScreen(), self._created)

    def _created(self, case: Case | None) -> None:
        if case is None:
            return
        self.notify(_("Created {ref}", ref=case.ref), markup=False)
        self.table.reload()
        self.load_views()

    # -- language ----------------------------------------------------------------------

    def retranslate(self) -> None:
        super().retranslate()
        self.query_one("#filter", Input).placeholder = _(FILTER_PLACEHOLDER)
        self.show_filter_errors()
        self.render_views()
        self.table.retranslate()
