"""The inbox (route ``inbox``): views on the left, the windowed case table, a filter."""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, OptionList, Static

from linkdesk.domain.cases import Case, CaseSummary
from linkdesk.domain.paging import Page
from linkdesk.domain.permissions import Permission
from linkdesk.domain.views import CaseQuery, CaseSort, View
from linkdesk.i18n import _
from linkdesk.resources import stylesheet
from linkdesk.tui.filter_terms import parse_filter
from linkdesk.tui.labels import N_
from linkdesk.tui.screens.base import DeskReconnected, DeskScreen
from linkdesk.tui.screens.bulk import BulkWork, done_text
from linkdesk.tui.widgets.case_table import CaseTable
from linkdesk.tui.widgets.filter_input import FilterInput
from linkdesk.tui.widgets.key_bar import KeyBar
from linkdesk.tui.widgets.status_line import StatusLine
from linkdesk.tui.widgets.title_bar import TitleBar
from linkdesk.tui.widgets.views_panel import ViewList, ViewNamePrompt, is_saved, saved_id
from linkdesk.tui.workers import desk_work

FILTER_PLACEHOLDER = N_("Filter: words, LD-000123, cat:rebind prio:>=high assignee:me risk:>=60 (tab completes)")


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
        Binding("ctrl+s", "save_view", "Save view", show=False, id="inbox.save_view"),
        # bulk work (issue 5): marks are kept by case ref, so they survive paging
        Binding("space", "mark", "Mark", id="inbox.mark"),
        Binding("shift+space,M", "mark_range", "Mark range", show=False, id="inbox.mark_range"),
        Binding("shift+down", "extend_mark(1)", "Mark down", show=False, id="inbox.mark_down"),
        Binding("shift+up", "extend_mark(-1)", "Mark up", show=False, id="inbox.mark_up"),
        Binding("b", "bulk", "Bulk", id="inbox.bulk"),
        Binding("u", "undo_bulk", "Undo bulk", show=False, id="inbox.undo_bulk"),
    ]
    ACTION_PERMISSIONS = {
        "new_case": (Permission.CASES_CREATE,),
        "audit": (Permission.AUDIT_READ,),
        "bulk": (Permission.CASES_UPDATE,),
        "undo_bulk": (Permission.CASES_UPDATE,),
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
        self.capped: set[str] = set()
        """Saved views whose count stopped at the desk's cap ("999+")."""
        self.broken: set[str] = set()
        """Saved views the desk could not count (a filter it refuses)."""
        self.sort: CaseSort | None = None
        """The order the agent chose with ``o``; until then each view's own (and, for a
        filter on the SLA, due soonest: the most overdue first, off the due-date index)."""
        self.bulk = BulkWork(self)

    def title_text(self) -> str:
        return _("Inbox")

    def compose(self) -> ComposeResult:
        yield TitleBar(self.title_text())
        with Horizontal(id="inbox-body"):
            yield ViewList(markup=False, id="views")
            with Vertical(id="inbox-main"):
                yield FilterInput(self._agent_names, placeholder=_(FILTER_PLACEHOLDER), id="filter")
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
        """The view's query, narrowed by the filter (docs/filters.md): its free text as
        ``q``, a risk floor as ``risk_min``, the other terms as ``filter`` (the desk
        parses them again). A filter with a bad term is left out (and pointed at, see
        :meth:`show_filter_errors`)."""
        view = self.current_view()
        query = view.query if view else CaseQuery()
        value = self.query_one("#filter", FilterInput).value
        parsed = parse_filter(value)
        sort = self.sort or query.sort
        if self.sort is None and not parsed.errors and parsed.filter.lists_by_due:
            sort = CaseSort.DUE
        update: dict[str, object] = {"sort": sort, "q": None}
        terms = ""
        if not parsed.errors:
            update["q"] = parsed.filter.text or None
            if parsed.filter.risk_min is not None:
                update["risk_min"] = parsed.filter.risk_min
            terms = " ".join(value[term.start:term.end] for term in parsed.terms if term.key != "risk_min")
        update["filter"] = " ".join(part for part in (query.filter, terms) if part) or None
        return query.model_copy(update=update)

    def filter_to_save(self) -> str:
        """The view's filter and the typed one, as one filter."""
        view = self.current_view()
        typed = self.query_one("#filter", FilterInput).value.strip()
        return " ".join(part for part in (view.query.filter if view else None, typed) if part)

    def action_sort(self) -> None:
        current = self.current_query().sort
        self.sort = self.SORTS[(self.SORTS.index(current) + 1) % len(self.SORTS)] if current in self.SORTS else self.SORTS[0]
        self.table.load(self.current_query())
        self.notify(_("Sorted by {order}", order=_(self.SORT_NAMES[self.sort])), timeout=2, markup=False)

    @desk_work(group="views")
    async def load_views(self) -> None:
        """The built-in views, then the saved ones, each with its count (refreshed every
        :attr:`COUNTS_EVERY` seconds)."""
        builtin = await self.app.take_views() or await self.client.views()  # type: ignore[attr-defined]
        saved = list(self.app.settings.views)  # type: ignore[attr-defined]
        counts = await asyncio.gather(
            *(self.client.count_cases(CaseQuery(filter=view.filter)) for view in saved), return_exceptions=True
        )
        views, capped, broken = list(builtin), set(), set()
        for view, count in zip(saved, counts, strict=True):
            view_id = saved_id(view.name)
            if isinstance(count, BaseException):
                broken.add(view_id)
                number = 0
            else:
                number = count.count
                if count.capped:
                    capped.add(view_id)
            views.append(View(id=view_id, title=view.name, count=number, query=CaseQuery(filter=view.filter)))
        self.views, self.capped, self.broken = views, capped, broken
        self.render_views()

    def render_views(self) -> None:
        self.query_one(ViewList).show(self.views, capped=self.capped, broken=self.broken, current=self.view_id)

    async def _agent_names(self) -> list[str]:
        """For ``assignee:`` completion (fetched once, when the filter is first opened)."""
        return [agent.name for agent in await self.client.agents()]

    # -- saved views -------------------------------------------------------------------

    def action_save_view(self) -> None:
        """Save the view's filter and the typed one under a name (in settings.toml)."""
        box = self.query_one("#filter", FilterInput)
        if box.errors:
            self.notify(_("Mend the filter before saving it"), severity="warning", markup=False)
            return
        text = self.filter_to_save()
        if not text:
            self.notify(_("Type a filter first (/), then save it"), markup=False)
            return
        current = self.current_view()
        suggested = current.title if current and is_saved(current.id) else ""
        self.app.push_screen(ViewNamePrompt(text, suggested), lambda name: self._save_view(name, text))

    def _save_view(self, name: str | None, text: str) -> None:
        if not name:
            return
        from linkdesk.config import SavedView

        views = [view for view in self.app.settings.views if view.name != name]  # type: ignore[attr-defined]
        replaced = len(views) != len(self.app.settings.views)  # type: ignore[attr-defined]
        kept = next((i for i, v in enumerate(self.app.settings.views) if v.name == name), len(views))  # type: ignore[attr-defined]
        views.insert(kept, SavedView(name=name, filter=text))
        self.app.apply_views(views)  # type: ignore[attr-defined]
        self.notify(
            _("View “{name}” replaced", name=name) if replaced else _("Saved the view “{name}”", name=name),
            markup=False,
        )
        box = self.query_one("#filter", FilterInput)
        with box.prevent(Input.Changed):
            box.value = ""
        box.display = False
        self.show_filter_errors()
        # shown at once (its count follows with the refresh below)
        view_id = saved_id(name)
        shown = View(id=view_id, title=name, count=0, query=CaseQuery(filter=text))
        builtin = [view for view in self.views if not is_saved(view.id)]
        saved = {view.id: view for view in self.views if is_saved(view.id)} | {view_id: shown}
        self.views = builtin + [saved[saved_id(view.name)] for view in views if saved_id(view.name) in saved]
        self.view_id = view_id
        self.render_views()
        self.table.load(self.current_query())
        self.table.focus()
        self.load_views()

    @on(ViewList.MoveRequested)
    def _move_view(self, event: ViewList.MoveRequested) -> None:
        views = list(self.app.settings.views)  # type: ignore[attr-defined]
        names = [view.name for view in views]
        index = names.index(event.view_id.removeprefix("saved:")) if event.view_id.removeprefix(
            "saved:") in names else -1
        target = index + event.step
        if index < 0 or not 0 <= target < len(views):
            return
        views[index], views[target] = views[target], views[index]
        self.app.apply_views(views)  # type: ignore[attr-defined]
        first = len(self.views) - len(views)  # saved views follow the built-in ones
        self.views[first + index], self.views[first + target] = self.views[first + target], self.views[first + index]
        panel = self.query_one(ViewList)
        self.render_views()
        panel.highlighted = first + target

    @on(ViewList.DeleteRequested)
    def _delete_view(self, event: ViewList.DeleteRequested) -> None:
        name = event.view_id.removeprefix("saved:")
        views = [view for view in self.app.settings.views if view.name != name]  # type: ignore[attr-defined]
        self.app.apply_views(views)  # type: ignore[attr-defined]
        self.views = [view for view in self.views if view.id != event.view_id]
        self.notify(_("Deleted the view “{name}”", name=name), markup=False)
        if self.view_id == event.view_id:
            self.view_id = "open"
            self.table.load(self.current_query())
        self.render_views()

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
        box = self.query_one("#filter", FilterInput)
        line = self.query_one("#filter-error", Static)
        pointer = box.pointer(self.query_one("#inbox-main").size.width)
        line.display = pointer is not None
        if pointer is not None:
            line.update(pointer)
        return pointer is not None

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.show_filter_errors():
            self.app.bell()  # the input stays open on the bad term; the list is unchanged
            return
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

    # -- bulk work (issue 5) -------------------------------------------------------------

    def action_mark(self) -> None:
        self.table.toggle_mark()

    def action_mark_range(self) -> None:
        self.table.mark_range()

    def action_extend_mark(self, step: int) -> None:
        self.table.extend_mark(step)

    def action_bulk(self) -> None:
        if not self.table.marked:
            self.notify(_("Mark cases with space first"), markup=False)
            return
        self._bulk_change(self.table.marked)

    @desk_work(group="bulk")
    async def _bulk_change(self, refs: list[str]) -> None:
        change = await self.bulk.choose_and_apply(refs)
        if change is None:
            return
        self.table.clear_marks()
        self.notify(done_text(change), markup=False, timeout=8)
        self.table.reload()
        self.load_views()

    def action_undo_bulk(self) -> None:
        self._undo_bulk()

    @desk_work(group="bulk")
    async def _undo_bulk(self) -> None:
        if await self.bulk.undo_last():
            self.table.reload()
            self.load_views()

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
