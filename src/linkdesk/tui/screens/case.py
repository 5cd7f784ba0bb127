"""One case (route ``case/LD-000123``): header, borrower panel, timeline, actions."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from linkdesk.client import DeskUnavailable, ProblemError, StaleVersion
from linkdesk.domain.cases import (
    Case,
    CaseCategory,
    CaseEvent,
    CasePatch,
    CaseStatus,
    EventCreate,
    EventKind,
    Priority,
)
from linkdesk.domain.permissions import Permission
from linkdesk.domain.reveal import REVEAL_PERMISSION
from linkdesk.domain.text import clean_line
from linkdesk.domain.workflow import next_statuses
from linkdesk.i18n import _
from linkdesk.resources import stylesheet
from linkdesk.tui import labels
from linkdesk.tui.risk_styles import score_cell
from linkdesk.tui.safe import PRIORITY_STYLES, block, line, when
from linkdesk.tui.screens.base import DeskScreen
from linkdesk.tui.screens.dialogs import Picker, TextEntry
from linkdesk.tui.screens.templates import comment_options
from linkdesk.tui.sla_styles import palette_of, sla_event_text, sla_summary
from linkdesk.tui.widgets.case_table import STATUS_STYLES
from linkdesk.tui.widgets.intel_panel import IntelPanel
from linkdesk.tui.widgets.key_bar import KeyBar
from linkdesk.tui.widgets.reveal_panel import RevealPanel
from linkdesk.tui.widgets.status_line import StatusLine
from linkdesk.tui.widgets.title_bar import TitleBar
from linkdesk.tui.workers import desk_work

UNASSIGN = ""


def describe_changes(old: Case, new: Case) -> list[str]:
    """What someone else changed, in the agent's words: ``status open → pending``."""
    changes = []
    if old.status != new.status:
        changes.append(_("status {old} → {new}", old=labels.status(old.status), new=labels.status(new.status)))
    if old.priority != new.priority:
        changes.append(
            _("priority {old} → {new}", old=labels.priority(old.priority), new=labels.priority(new.priority))
        )
    old_assignee = old.assignee.name if old.assignee else "—"
    new_assignee = new.assignee.name if new.assignee else "—"
    if old_assignee != new_assignee:
        changes.append(
            _("assignee {old} → {new}", old=clean_line(old_assignee), new=clean_line(new_assignee))
        )
    if old.subject != new.subject:
        changes.append(_("subject changed"))
    if not changes:
        changes.append(_("new timeline entries"))
    return changes


class CaseScreen(DeskScreen):
    CSS_PATH = stylesheet("case")
    # from 110 columns the side panel (borrower, numbers and their intel) gets wider
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("c", "comment", "Comment", id="case.comment"),
        Binding("i", "note", "Internal note", id="case.note"),
        Binding("s", "status", "Status", id="case.status"),
        Binding("p", "priority", "Priority", id="case.priority"),
        Binding("a", "assign", "Assign", id="case.assign"),
        Binding("v", "recheck", "Re-check intel", id="case.recheck"),
        Binding("R", "reveal", "Reveal", id="case.reveal"),
        Binding("P", "playbook", "Playbook", id="case.playbook"),
        Binding("b", "rebind", "Rebind", id="case.rebind"),
        Binding("o", "contacts", "Contacts", id="case.contacts", show=False),
        Binding("m", "masked_call", "Masked call", id="case.masked_call", show=False),
        Binding("B", "borrower", "Privacy", id="case.borrower"),
        Binding("r", "reload", "Reload", id="case.reload"),
        Binding("escape", "back", "Back", id="case.back"),
        Binding("j", "scroll_timeline(1)", show=False),
        Binding("k", "scroll_timeline(-1)", show=False),
    ]
    ACTION_PERMISSIONS = {
        "comment": (Permission.CASES_COMMENT,),
        "note": (Permission.CASES_COMMENT,),
        "status": (Permission.CASES_UPDATE,),
        "priority": (Permission.CASES_UPDATE,),
        "assign": (Permission.CASES_UPDATE,),
        "recheck": (Permission.INTEL_CHECK,),
        "rebind": (Permission.REBIND_START,),
        "masked_call": (Permission.CONTACT_CALL,),
        "playbook": (Permission.CASES_UPDATE,),
        "reveal": tuple(REVEAL_PERMISSION.values()),
    }

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
        self.case: Case | None = None
        self.events: list[CaseEvent] = []

    def title_text(self) -> str:
        return _("Case {ref}", ref=self.ref)

    def compose(self) -> ComposeResult:
        yield TitleBar(self.title_text())
        with Vertical(id="case-head"):
            yield Static(Content(_("Loading {ref}…", ref=self.ref)), id="case-subject")
            yield Static(Content(""), id="case-meta")
        yield RevealPanel(id="reveal-panel")
        with Horizontal(id="case-body"):
            with VerticalScroll(id="timeline"):
                yield Static(Content(""), id="case-description", classes="event -body")
            with VerticalScroll(id="side"):
                yield Static(Content(""), id="borrower")
                yield IntelPanel(id="intel")
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_position(self.ref)
        self.query_one("#timeline").focus()
        self.load()

    # -- loading -----------------------------------------------------------------------

    def load(self, *, intel: bool = True) -> None:
        """The case and its timeline, and (side by side) what the desk knows of its numbers."""
        self.load_case()
        if intel and not self.checking_intel:
            self.load_intel()

    @desk_work(group="case-load")
    async def load_case(self) -> None:
        case = await self.client.get_case(self.ref)
        self.case, self.events = case, await self.timeline()
        self.render_case()
        await self.render_timeline()

    # -- phone intel -------------------------------------------------------------------

    @property
    def intel_panel(self) -> IntelPanel:
        return self.query_one(IntelPanel)

    @property
    def checking_intel(self) -> bool:
        return any(w.node is self and w.name == "check_intel" and not w.is_finished for w in self.workers)

    @work(group="case-intel", exclusive=True, exit_on_error=False)
    async def load_intel(self) -> None:
        """What the desk last learnt of the case's numbers (no provider is asked)."""
        await self._intel(check=False)

    @work(group="case-intel", exclusive=True, exit_on_error=False)
    async def check_intel(self) -> None:
        """Ask the providers again now; a slow or failing one only affects the panel."""
        self.intel_panel.checking()
        if await self._intel(check=True):
            self.load(intel=False)  # the case's risk and the timeline's intel entry

    async def _intel(self, *, check: bool) -> bool:
        """Fetch (or re-check) the intel into the panel; a failure goes to the panel too."""
        panel = self.intel_panel
        try:
            if check:
                items = await self.client.check_intel(self.ref)
            else:
                items = await self.client.case_intel(self.ref)
        except asyncio.CancelledError:
            raise
        except DeskUnavailable:
            panel.failed(_("the desk did not answer"))
            if not check:  # a re-check may only have outwaited the client's timeout
                self.app.desk_unreachable()  # type: ignore[attr-defined]
            return False
        except ProblemError as exc:
            reason = clean_line(exc.problem.title)
            if exc.problem.detail:
                reason += ": " + clean_line(exc.problem.detail)
            panel.failed(reason)
            return False
        except Exception as exc:  # noqa: BLE001 - shown in the panel, never raised
            self.log.error("intel failed", error=repr(exc))
            panel.failed(clean_line(str(exc)) or clean_line(repr(exc)))
            return False
        panel.show_intel(items)
        return True

    def action_recheck(self) -> None:
        if self.checking_intel:
            self.notify(_("Already checking the numbers of {ref}…", ref=self.ref), timeout=3, markup=False)
            return
        self.check_intel()

    async def timeline(self) -> list[CaseEvent]:
        """Every event of the case, page after page (oldest first)."""
        events: list[CaseEvent] = []
        cursor: str | None = None
        while True:
            page = await self.client.list_events(self.ref, cursor=cursor, limit=200)
            events.extend(page.items)
            cursor = page.next_cursor
            if not cursor:
                return events

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # issue 5: the playbook key is offered on recycled-number cases only
        if action == "playbook" and (self.case is None or self.case.category is not CaseCategory.RECYCLED_NUMBER):
            return False
        return super().check_action(action, parameters)

    def action_playbook(self) -> None:
        """The recycled-number playbook (issue 5; tui/screens/playbook.py)."""
        if self.case is not None and self.case.category is not CaseCategory.RECYCLED_NUMBER:
            self.notify(_("The playbook is for recycled-number cases"), severity="warning", markup=False)
            return
        self.router.go("playbook", ref=self.ref)

    def action_contacts(self) -> None:
        """The borrower's contact log and the collection rules (issue 5; tui/screens/contact.py)."""
        self.router.go("contacts", ref=self.ref)

    def action_masked_call(self) -> None:
        """A privacy number to call the borrower (issue 5): the dialog, as reveal's."""
        from linkdesk.tui.screens.contact import MaskedCallDialog

        self.app.push_screen(MaskedCallDialog(self.ref), lambda _call: self.refresh_timeline())

    def action_borrower(self) -> None:
        """The borrower's privacy screen (issue 5; tui/screens/borrower.py)."""
        if self.case is None or self.case.borrower is None:
            self.notify(_("{ref} has no borrower", ref=self.ref), severity="warning", markup=False)
            return
        self.router.go("borrower", borrower=self.case.borrower.ref)

    def action_rebind(self) -> None:
        """The rebind wizard (issue 5; tui/screens/rebind.py)."""
        if self.case is not None and self.case.borrower is None:
            self.notify(_("{ref} has no borrower: there is no number to rebind", ref=self.ref),
                        severity="warning", markup=False)
            return
        self.router.go("rebind", ref=self.ref)

    def action_scroll_timeline(self, lines: int) -> None:
        self.query_one("#timeline", VerticalScroll).scroll_relative(y=lines, animate=False)

    # -- rendering ---------------------------------------------------------------------

    def render_case(self) -> None:
        case = self.case
        if case is None:
            return
        self.refresh_bindings()  # keys that depend on the case (the playbook's)
        subject = Text.assemble((case.ref + "  ", "bold"), line(case.subject, "bold"))
        self.query_one("#case-subject", Static).update(subject)
        # One line: what matters most comes first, the SLA's date may be cut at the edge.
        meta = Text(end="", no_wrap=True, overflow="ellipsis")
        meta.append(f" {labels.status(case.status)} ", style=f"reverse {STATUS_STYLES.get(case.status, '')}")
        meta.append("  ")
        meta.append(labels.priority(case.priority), style=PRIORITY_STYLES[case.priority] or "bold")
        meta.append("  ·  " + labels.category(case.category))
        if case.risk is not None:
            meta.append("  ·  " + _("risk") + " ")
            meta.append_text(score_cell(case.risk))
        if case.phone:
            meta.append("  ·  ☎ ")
            meta.append_text(line(case.phone))
        meta.append("  ·  " + _("assignee") + " ")
        meta.append_text(line(case.assignee.display_name if case.assignee else "—"))
        meta.append("  ·  ")  # issue 5: resolution and first-response due times, paused state
        meta.append_text(sla_summary(case, self.app.clock(), palette_of(self.app.current_theme)))  # type: ignore[attr-defined]
        self.query_one("#case-meta", Static).update(meta)
        self.query_one("#case-description", Static).update(
            block(case.body) if case.body else Text(_("(no description)"), style="dim")
        )
        self.query_one("#borrower", Static).update(self.borrower_text(case))
        self.intel_panel.show_case(case)

    def borrower_text(self, case: Case) -> Text:
        text = Text(end="")
        text.append(_("Borrower") + "\n", style="bold underline")
        borrower = case.borrower
        if borrower is None:
            text.append(_("no borrower linked"), style="dim")
            return text
        text.append(_("Ref") + "  ")
        text.append_text(line(borrower.ref))
        text.append("\n" + _("Name") + "  ")
        text.append_text(line(borrower.name))
        text.append("\n" + _("ID number") + "  ")
        text.append_text(line(borrower.id_number or "—"))
        return text

    def event_widget(self, event: CaseEvent) -> Static:
        # an internal comment is a note; other internal events (a reveal) keep their kind
        internal = event.kind is EventKind.NOTE or (event.internal and event.kind is EventKind.COMMENT)
        head = Text(end="")
        if internal:
            head.append(" " + _("INTERNAL NOTE") + " ", style="bold reverse #e8b04a")
        elif event.kind is EventKind.REVEAL:
            head.append(" " + _("REVEAL") + " ", style="bold reverse #d46a6a")
        elif event.kind is EventKind.COMMENT:
            head.append(" " + _("COMMENT") + " ", style="bold reverse #3fb8af")
        else:
            head.append(labels.event_kind(event.kind), style="bold dim")
        head.append("  ")
        head.append_text(line(event.actor or _("system"), "bold"))
        head.append(f"  {when(event.created_at)}", style="dim")
        body = self.event_body(event)
        content = Text("\n", end="").join([head, body]) if body.plain else head
        if internal:
            kind = "-note"
        elif event.kind is EventKind.COMMENT:
            kind = "-comment"
        elif event.kind is EventKind.REVEAL:
            kind = "-reveal"
        else:
            kind = "-change"
        return Static(content, classes=f"event {kind}")

    def event_body(self, event: CaseEvent) -> Text:
        if event.kind is EventKind.REVEAL:
            return self.reveal_text(event.data)
        if event.kind in (EventKind.SLA_BREACH, EventKind.SLA_PAUSE):  # issue 5
            return sla_event_text(str(event.kind), event.data)
        if event.kind in (EventKind.CONTACT, EventKind.MASKED_CALL):  # issue 5: contact compliance
            from linkdesk.tui.screens.contact import contact_event_text

            return contact_event_text(event.kind, event.data)
        if event.body:
            return block(event.body)
        if "to" in event.data:
            old, new = event.data.get("from"), event.data.get("to")
            return Text(
                f"{self.change_value(event.kind, old)} → {self.change_value(event.kind, new)}",
                style="dim",
                end="",
            )
        if event.data:
            parts = [f"{clean_line(str(k))}: {clean_line(str(v))}" for k, v in event.data.items()]
            return Text(" · ".join(parts), style="dim", end="")
        return Text(end="")

    @staticmethod
    def reveal_text(data: dict[str, Any]) -> Text:
        """``revealed the number · borrower on the line · audit #12`` (never a value: the
        desk does not put one in the timeline)."""
        binding = data.get("binding")
        what = labels.reveal_field(str(data.get("field", "")), str(binding) if binding else None)
        reason = data.get("reason")
        text = Text(_("revealed {what}", what=what), end="")
        text.append(" · " + labels.reveal_reason(str(reason) if reason else None))
        seq = data.get("audit_seq")
        if seq is not None:
            text.append("  " + _("audit #{seq}", seq=clean_line(str(seq))), style="dim")
        return text

    @staticmethod
    def change_value(kind: EventKind, value: object) -> str:
        """A changed field's value in the agent's language: statuses and priorities by
        their labels, anything else (an agent's name) cleaned as it came."""
        if value is None or value == "":
            return "—"
        try:
            if kind is EventKind.STATUS:
                return labels.status(CaseStatus(str(value)))
            if kind is EventKind.PRIORITY:
                return labels.priority(Priority(str(value)))
        except ValueError:
            pass
        return clean_line(str(value))

    async def render_timeline(self) -> None:
        timeline = self.query_one("#timeline", VerticalScroll)
        await timeline.query(".event").exclude("#case-description").remove()
        await timeline.mount_all([self.event_widget(event) for event in self.events])
        timeline.scroll_end(animate=False)

    def retranslate(self) -> None:
        super().retranslate()
        self.render_case()
        self.intel_panel.refresh(recompose=True)
        self.run_worker(self.render_timeline(), group="case-render", exclusive=True)

    # -- actions -----------------------------------------------------------------------

    def action_reveal(self) -> None:
        from linkdesk.tui.screens.reveal import RevealDialog, Sealed, reveal_choices

        case = self.case
        if case is None:
            return
        choices = reveal_choices(case, self.app.may)  # type: ignore[attr-defined]
        if not choices:
            self.notify(_("Nothing on {ref} that your role may reveal", ref=self.ref), severity="warning", markup=False)
            return
        policy = self.app.policy  # type: ignore[attr-defined]
        dialog = RevealDialog(
            self.ref, choices, display_seconds=policy.reveal_display_seconds if policy else None
        )

        def revealed(sealed: Sealed | None) -> None:
            if sealed is None:
                return
            result = sealed.revealed
            choice = next(
                (c for c in choices if c.field is result.field and c.binding == result.binding), None
            )
            label = choice.label if choice else labels.reveal_field(result.field, result.binding)
            masked = choice.masked if choice else "—"
            self.query_one(RevealPanel).show(result, label=label, masked=masked)
            del result, sealed.revealed  # only the panel holds it now
            self.refresh_timeline()

        self.app.push_screen(dialog, revealed)

    @desk_work(group="case-timeline")
    async def refresh_timeline(self) -> None:
        self.events = await self.timeline()
        await self.render_timeline()

    def action_comment(self) -> None:
        self.app.push_screen(
            TextEntry(
                _("Public comment on {ref}", ref=self.ref),
                _("ctrl+s save · esc cancel · the borrower sees this"),
                **comment_options(self.app, self.case),  # reply templates (ctrl+t)
            ),
            lambda text: self._add_event(EventKind.COMMENT, text) if text else None,
        )

    def action_note(self) -> None:
        self.app.push_screen(
            TextEntry(
                _("Internal note on {ref}", ref=self.ref),
                _("ctrl+s save · esc cancel · agents only"),
                variant="note",
            ),
            lambda text: self._add_event(EventKind.NOTE, text) if text else None,
        )

    @desk_work(group="case-write", exclusive=False)
    async def _add_event(self, kind: EventKind, text: str) -> None:
        event = await self.client.add_event(self.ref, EventCreate(kind=kind, body=text))
        self.events = [*self.events, event]
        await self.render_timeline()
        self.notify(_("Comment added") if kind is EventKind.COMMENT else _("Note added"), markup=False)

    def action_status(self) -> None:
        if self.case is None:
            return
        options = [
            (Text(labels.status(status), style=STATUS_STYLES.get(status, "")), status)
            for status in next_statuses(self.case.status)
        ]
        self.app.push_screen(
            Picker(_("Move {ref} to", ref=self.ref), options),
            lambda status: self.update_case(CasePatch(status=status)) if status else None,
        )

    def action_priority(self) -> None:
        if self.case is None:
            return
        options = [(Text(labels.priority(p), style=PRIORITY_STYLES[p]), p) for p in Priority]
        self.app.push_screen(
            Picker(_("Priority of {ref}", ref=self.ref), options, current=self.case.priority),
            lambda priority: self.update_case(CasePatch(priority=priority))
            if priority and self.case and priority != self.case.priority
            else None,
        )

    def action_assign(self) -> None:
        if self.case is not None:
            self._pick_assignee()

    @desk_work(group="case-agents")
    async def _pick_assignee(self) -> None:
        agents = await self.client.agents()
        options: list[tuple[Text, Any]] = [(Text(_("Unassign"), style="italic"), UNASSIGN)]
        for agent in agents:
            prompt = line(agent.display_name)
            prompt.append(f"  {clean_line(agent.name)} · {labels.role(agent.role)}", style="dim")
            options.append((prompt, agent.name))
        current = self.case.assignee.name if self.case and self.case.assignee else UNASSIGN
        self.app.push_screen(
            Picker(_("Assign {ref} to", ref=self.ref), options, current=current),
            lambda name: self.update_case(CasePatch(assignee=name or None)) if name is not None else None,
        )

    @desk_work(group="case-write", exclusive=False)
    async def update_case(self, patch: CasePatch) -> None:
        case = self.case
        if case is None:
            return
        try:
            updated = await self.client.update_case(self.ref, patch, version=case.version)
        except StaleVersion:
            fresh = await self.client.get_case(self.ref)
            changes = "; ".join(describe_changes(case, fresh))
            self.case, self.events = fresh, await self.timeline()
            self.render_case()
            await self.render_timeline()
            self.notify(
                _(
                    "{ref} was changed by someone else: {changes}; your change was not applied",
                    ref=self.ref,
                    changes=changes,
                ),
                severity="warning",
                timeout=10,
                markup=False,
            )
            return
        self.case = updated
        self.events = await self.timeline()
        self.render_case()
        await self.render_timeline()
        self.notify(_("{ref} updated", ref=self.ref), markup=False)
