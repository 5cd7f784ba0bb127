"""The audit chain (route ``audit``, for roles with ``audit.read``).

A header line with the chain's verification (run in a worker when the screen opens and
on ``v``), a filter line (actor, action, case, since, until), and the records newest
first in a table that pages as it scrolls. ``enter`` shows one record whole.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Input, Select, Static

from linkdesk.client import ProblemError
from linkdesk.domain.audit import AuditAction, AuditRecord, ChainState
from linkdesk.domain.paging import Page
from linkdesk.domain.refs import InvalidRef, case_ref, parse_case_ref
from linkdesk.domain.text import clean_line
from linkdesk.i18n import _
from linkdesk.resources import stylesheet
from linkdesk.tui import labels
from linkdesk.tui.screens.base import DeskReconnected, DeskScreen
from linkdesk.tui.widgets.audit_table import AuditFilters, AuditTable
from linkdesk.tui.widgets.key_bar import KeyBar
from linkdesk.tui.widgets.status_line import StatusLine
from linkdesk.tui.widgets.title_bar import TitleBar
from linkdesk.tui.workers import desk_work

HASH_SHOWN = 8
"""Hex digits of the head hash in the header (the record view shows all of it)."""


class FilterProblem(ValueError):
    pass


def parse_day(text: str, what: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterProblem(_("{what}: a date as YYYY-MM-DD, e.g. 2026-11-20", what=what)) from None


def local_midnight(day: date) -> str:
    """The start of ``day`` in the terminal's time zone, as an ISO instant."""
    return datetime.combine(day, time()).astimezone().isoformat()


def chain_text(state: ChainState) -> Content:
    """``intact · 1,204 records · head 3f2a9c01…`` or, in the error colour, where it broke."""
    parts: list[tuple[str, str] | str] = []
    if state.intact:
        parts.append(("✔ " + _("intact"), "bold $text-success"))
    elif state.broken is not None:
        parts.append(
            (
                "✘ " + _("BROKEN at record {seq}: {why}", seq=state.broken.seq, why=clean_line(state.broken.problem)),
                "bold $text-error",
            )
        )
    else:
        parts.append(("✘ " + _("NOT INTACT"), "bold $text-error"))
    parts.append(" · " + _("{count} records", count=f"{state.records:,}"))
    parts.append(" · " + _("head {hash}…", hash=clean_line(state.head_hash[:HASH_SHOWN])))
    if state.checkpoints_checked:
        parts.append(" · " + _("{count} checkpoints checked", count=state.checkpoints_checked))
    for problem in state.checkpoint_problems:
        parts.append(("  ✘ " + _("checkpoint: {problem}", problem=clean_line(problem)), "bold $text-error"))
    parts.append(("  " + _("verified {when}", when=state.verified_at.astimezone().strftime("%H:%M:%S")), "dim"))
    return Content.assemble(*parts)


class AuditScreen(DeskScreen):
    CSS_PATH = stylesheet("audit")

    BINDINGS = [
        Binding("enter", "open", "Record", id="audit.open", show=True),
        Binding("slash", "filter", "Filter", id="audit.filter"),
        Binding("v", "verify", "Verify chain", id="audit.verify"),
        Binding("r", "refresh", "Refresh", id="audit.refresh"),
        Binding("escape", "back", "Back", id="audit.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.chain: ChainState | None = None

    def title_text(self) -> str:
        return _("Audit")

    def compose(self) -> ComposeResult:
        yield TitleBar(self.title_text())
        yield Static(Content(_("verifying…")), id="chain-state")
        with Horizontal(id="audit-filters"):
            yield Input(placeholder=_("actor"), max_length=100, compact=True, id="filter-actor")
            yield Select(
                [(Text(labels.audit_action(action)), action.value) for action in AuditAction],
                prompt=_("any action"),
                compact=True,
                id="filter-action",
            )
            yield Input(placeholder=_("case"), max_length=32, compact=True, id="filter-case")
            yield Input(placeholder=_("since YYYY-MM-DD"), max_length=10, compact=True, id="filter-since")
            yield Input(placeholder=_("until YYYY-MM-DD"), max_length=10, compact=True, id="filter-until")
        yield Static(Content(""), id="filter-error")
        yield AuditTable(self._fetch_page, id="audit-records")
        yield Static(Content(_("No audit records match the filters.")), id="audit-empty")
        yield StatusLine()
        yield KeyBar()

    @property
    def table(self) -> AuditTable:
        return self.query_one(AuditTable)

    async def _fetch_page(self, filters: AuditFilters, cursor: str | None, limit: int) -> Page[AuditRecord]:
        return await self.client.audit(
            actor=filters.actor, action=filters.action, case=filters.case,
            since=filters.since, until=filters.until, cursor=cursor, limit=limit,
        )

    def on_mount(self) -> None:
        self.query_one("#audit-empty").display = False
        self.table.focus()
        self.table.load(AuditFilters())
        self.verify()

    # -- the chain ---------------------------------------------------------------------

    @desk_work(group="audit-verify")
    async def verify(self) -> None:
        header = self.query_one("#chain-state", Static)
        header.update(Content.assemble(("⋯ " + _("verifying…"), "$text-warning")))
        try:
            state = await self.client.verify_audit()
        except ProblemError as exc:
            reason = clean_line(exc.problem.detail or exc.problem.title)
            header.update(Content.assemble(("✘ " + _("verification failed: {reason}", reason=reason), "bold $text-error")))
            return
        self.chain = state
        header.update(chain_text(state))

    def action_verify(self) -> None:
        self.verify()

    # -- filters -----------------------------------------------------------------------

    def filters_from_form(self) -> AuditFilters:
        actor = self.query_one("#filter-actor", Input).value.strip() or None
        action = self.query_one("#filter-action", Select).value
        case_text = self.query_one("#filter-case", Input).value.strip()
        case = None
        if case_text:
            try:
                case = case_ref(parse_case_ref(case_text))
            except InvalidRef:
                raise FilterProblem(_("case: a case id, e.g. LD-000123")) from None
        since = parse_day(self.query_one("#filter-since", Input).value, _("since"))
        until = parse_day(self.query_one("#filter-until", Input).value, _("until"))
        if since and until and until < since:
            raise FilterProblem(_("until is before since"))
        return AuditFilters(
            actor=actor,
            action=AuditAction(str(action)) if action is not Select.NULL else None,
            case=case,
            since=local_midnight(since) if since else None,
            # the whole "until" day: records before the next midnight
            until=local_midnight(until + timedelta(days=1)) if until else None,
        )

    @on(Input.Changed, "#audit-filters Input")
    @on(Select.Changed, "#filter-action")
    def _filters_changed(self) -> None:
        error = self.query_one("#filter-error", Static)
        try:
            filters = self.filters_from_form()
        except FilterProblem as exc:
            error.update(Content(str(exc)))
            error.add_class("-shown")
            return
        error.update(Content(""))
        error.remove_class("-shown")
        if filters != self.table.filters:
            self.table.load(filters)

    @on(Input.Submitted, "#audit-filters Input")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def action_filter(self) -> None:
        self.query_one("#filter-actor", Input).focus()

    # -- records -----------------------------------------------------------------------

    @on(AuditTable.Moved)
    def _moved(self, event: AuditTable.Moved) -> None:
        self.set_position(event.position)
        nothing = self.table.loaded and self.table.row_count == 0
        self.query_one("#audit-empty").display = nothing
        self.set_class(nothing, "-empty")

    @on(AuditTable.Opened)
    def _opened(self, event: AuditTable.Opened) -> None:
        self.show_record(event.key)

    def action_open(self) -> None:
        key = self.table.highlighted_key
        if key is not None:
            self.show_record(key)

    def show_record(self, key: str) -> None:
        from linkdesk.tui.screens.audit_record import AuditRecordDialog

        record = self.table.record(key)
        if record is not None:
            self.app.push_screen(AuditRecordDialog(record))

    def action_refresh(self) -> None:
        self.table.reload()

    def action_back(self) -> None:
        self.router.back()

    def on_desk_reconnected(self, _message: DeskReconnected) -> None:
        self.table.load(self.table.filters)
        self.verify()

    def retranslate(self) -> None:
        super().retranslate()
        self.table.retranslate()
        if self.chain is not None:
            self.query_one("#chain-state", Static).update(chain_text(self.chain))
