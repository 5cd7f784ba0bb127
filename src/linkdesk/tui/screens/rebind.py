"""The rebind wizard of one case (route ``rebind/LD-000123``): phone change, lost SIM.

Step 1, the new number: typed, sent to the desk, which normalises it and checks it
against do-not-contact and other borrowers (it only says *that* another borrower holds
it, never who). Step 2, the verification factors, one key each, every result listed:
``t`` three-element check, ``n``/``o`` a code to the new/old number (then type what the
borrower reads back), ``d``/``c``/``w`` an ID document, bank card or video check with a
note. ``f`` completes when the policy allows; ``A`` approves someone else's rebind.
An open rebind of the case is found again from its timeline, so the wizard resumes.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static

from linkdesk.client import ProblemError, RateLimited
from linkdesk.domain.permissions import Permission
from linkdesk.domain.rebind import (
    FactorCreate,
    FactorKind,
    Rebind,
    RebindStatus,
)
from linkdesk.domain.text import clean_line
from linkdesk.i18n import _
from linkdesk.resources import stylesheet
from linkdesk.tui.rebind_text import decision_text, factor_name, factors_text, status_words
from linkdesk.tui.safe import line
from linkdesk.tui.screens.base import DeskScreen
from linkdesk.tui.screens.dialogs import Picker, TextEntry
from linkdesk.tui.widgets.key_bar import KeyBar
from linkdesk.tui.widgets.status_line import StatusLine
from linkdesk.tui.widgets.title_bar import TitleBar
from linkdesk.tui.workers import desk_work

PHONE = "phone"
VERIFYING_ACTIONS = {"three_element", "code_new", "code_old", "id_document", "bank_card", "video", "complete"}


def problem_text(exc: ProblemError) -> str:
    """The field's message when the desk named one, else the problem's detail."""
    if exc.field_errors:
        return clean_line(exc.field_errors[0].message)
    return clean_line(exc.problem.detail or exc.problem.title)


class RebindScreen(DeskScreen):
    CSS_PATH = stylesheet("rebind")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "three_element", "Three-element", id="rebind.three_element"),
        Binding("n", "code_new", "Code to new", id="rebind.code_new"),
        Binding("o", "code_old", "Code to old", id="rebind.code_old"),
        Binding("d", "id_document", "ID document check", id="rebind.id_document"),
        Binding("c", "bank_card", "Bank card check", id="rebind.bank_card"),
        Binding("w", "video", "Video check", id="rebind.video"),
        Binding("f", "complete", "Complete rebind", id="rebind.complete"),
        Binding("A", "approve", "Approve rebind", id="rebind.approve"),
        Binding("x", "cancel_rebind", "Cancel rebind", id="rebind.cancel"),
        Binding("r", "reload", "Reload", id="rebind.reload"),
        Binding("escape", "back", "Back", id="rebind.back"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        **{action: (Permission.REBIND_START,) for action in VERIFYING_ACTIONS | {"cancel_rebind"}},
        "approve": (Permission.REBIND_APPROVE,),
    }

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
        self.rebind: Rebind | None = None
        self.mode: str | None = None
        """What the input takes: ``phone``, a code factor's name, or nothing (hidden)."""

    def title_text(self) -> str:
        return _("Rebind {ref}", ref=self.ref)

    def compose(self) -> ComposeResult:
        yield TitleBar(self.title_text())
        with Vertical(id="rebind-head"):
            yield Static(Content(_("Change the bound number of {ref}'s borrower", ref=self.ref)), id="rebind-title")
            yield Static(Content(""), id="rebind-state")
        with VerticalScroll(id="rebind-body"):
            yield Static(Content(""), id="rebind-factors")
            yield Static(Content(""), id="rebind-decision")
        with Vertical(id="rebind-entry"):
            yield Static(Content(""), id="rebind-prompt")
            yield Input(max_length=40, compact=True, id="rebind-input")
            yield Static(Content(""), id="rebind-error", classes="field-error")
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_position(self.ref)
        self.set_mode(None)
        self.load()

    # -- state -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        status = self.rebind.status if self.rebind else None
        if action in VERIFYING_ACTIONS:
            return status is RebindStatus.VERIFYING
        if action == "approve":
            return status is RebindStatus.AWAITING_APPROVAL
        if action == "cancel_rebind":
            return status in (RebindStatus.VERIFYING, RebindStatus.AWAITING_APPROVAL)
        return True

    def set_mode(self, mode: str | None, prompt: str = "") -> None:
        self.mode = mode
        entry = self.query_one("#rebind-entry")
        entry.display = mode is not None
        field = self.query_one("#rebind-input", Input)
        field.value = ""
        field.password = False
        self.query_one("#rebind-prompt", Static).update(Content(prompt))
        self.show_error("")
        if mode is not None:
            field.focus()
        else:
            self.query_one("#rebind-body").focus()
        self.refresh_bindings()

    def show_error(self, text: str) -> None:
        error = self.query_one("#rebind-error", Static)
        error.update(Text(text, style="bold", end=""))
        error.set_class(bool(text), "-shown")

    @desk_work(group="rebind-load")
    async def load(self) -> None:
        """The case's latest rebind (from its timeline); resume it if it is still open."""
        latest: int | None = None
        cursor: str | None = None
        while True:
            page = await self.client.list_events(self.ref, cursor=cursor, limit=200)
            for event in page.items:
                value = event.data.get("rebind") if event.kind == "rebind" else None
                if isinstance(value, int):
                    latest = value
            cursor = page.next_cursor
            if not cursor:
                break
        rebind = await self.client.get_rebind(latest) if latest is not None else None
        self.show(rebind)

    def show(self, rebind: Rebind | None) -> None:
        self.rebind = rebind
        open_now = rebind is not None and rebind.status in (RebindStatus.VERIFYING, RebindStatus.AWAITING_APPROVAL)
        if not open_now and self.mode is None:
            self.set_mode(PHONE, _("New number (any common format), then enter"))
        elif open_now and self.mode == PHONE:
            self.set_mode(None)
        self.render_state()
        self.refresh_bindings()

    def render_state(self) -> None:
        rebind = self.rebind
        state = Text(end="")
        factors = Text(end="")
        decision = Text(end="")
        if rebind is None:
            state.append(_("No rebind yet: type the new number below."), style="dim")
        else:
            state.append_text(line(rebind.old_phone or "—"))
            state.append(" → ")
            state.append_text(line(rebind.new_phone, "bold"))
            state.append("  ·  " + status_words(rebind))
            if rebind.bound_elsewhere:
                state.append("\n" + _("This number is bound to another borrower: a supervisor must approve."),
                             style="bold #ff9f1a")
            factors = factors_text(rebind)
            decision = decision_text(rebind)
        self.query_one("#rebind-state", Static).update(state)
        self.query_one("#rebind-factors", Static).update(factors)
        self.query_one("#rebind-decision", Static).update(decision)

    # -- input -------------------------------------------------------------------------

    @on(Input.Submitted, "#rebind-input")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value or self.mode is None:
            return
        if self.mode == PHONE:
            self.start(value)
        else:
            self.enter_code(FactorKind(self.mode), value)

    @on(Input.Changed, "#rebind-input")
    def edited(self, event: Input.Changed) -> None:
        if event.value:  # typing again (clearing the field after a refusal keeps its reason)
            self.show_error("")

    @desk_work(group="rebind-write")
    async def start(self, phone: str) -> None:
        try:
            rebind = await self.client.start_rebind(self.ref, phone)
        except ProblemError as exc:
            self.show_error(problem_text(exc))
            return
        finally:
            del phone
        self.set_mode(None)
        self.show(rebind)

    @desk_work(group="rebind-write")
    async def enter_code(self, kind: FactorKind, code: str) -> None:
        assert self.rebind is not None
        try:
            rebind = await self.client.record_rebind_factor(self.rebind.id, FactorCreate(kind=kind, code=code))
        except ProblemError as exc:
            self.query_one("#rebind-input", Input).value = ""
            self.show_error(problem_text(exc))
            if exc.status == 409:  # the code is dead: leave the entry
                self.set_mode(None)
                self.notify(problem_text(exc), severity="warning", markup=False)
                self.load()
            return
        self.set_mode(None)
        self.show(rebind)

    # -- factors -----------------------------------------------------------------------

    def action_three_element(self) -> None:
        self.record(FactorCreate(kind=FactorKind.THREE_ELEMENT))

    def action_code_new(self) -> None:
        self.send_code(FactorKind.OTP_NEW)

    def action_code_old(self) -> None:
        self.send_code(FactorKind.OTP_OLD)

    @desk_work(group="rebind-write")
    async def send_code(self, kind: FactorKind) -> None:
        assert self.rebind is not None
        try:
            rebind = await self.client.send_rebind_code(self.rebind.id, kind)
        except RateLimited as exc:
            self.notify(problem_text(exc), severity="warning", markup=False)
            return
        except ProblemError as exc:
            self.notify(problem_text(exc), severity="error", markup=False)
            return
        self.show(rebind)
        to = next((code.to for code in rebind.codes if code.factor is kind), "")
        self.set_mode(str(kind), _("Code the borrower reads back (sent to {phone}), then enter", phone=clean_line(to)))

    def action_id_document(self) -> None:
        self.ask_agent_factor(FactorKind.ID_DOCUMENT)

    def action_bank_card(self) -> None:
        self.ask_agent_factor(FactorKind.BANK_CARD)

    def action_video(self) -> None:
        self.ask_agent_factor(FactorKind.VIDEO)

    def ask_agent_factor(self, kind: FactorKind) -> None:
        options = [(Text(_("the check passed"), style="bold #3fb8af"), True), (Text(_("the check failed"), style="bold #ff5f56"), False)]

        def noted(passed: bool | None) -> None:
            if passed is None:
                return
            self.app.push_screen(
                TextEntry(factor_name(kind), _("ctrl+s save · esc cancel · what was checked, at least 4 characters"),
                          variant="note"),
                lambda note: self.record(FactorCreate(kind=kind, passed=passed, note=note)) if note else None,
            )

        self.app.push_screen(Picker(factor_name(kind), options), noted)

    @desk_work(group="rebind-write")
    async def record(self, factor: FactorCreate) -> None:
        assert self.rebind is not None
        try:
            rebind = await self.client.record_rebind_factor(self.rebind.id, factor)
        except ProblemError as exc:
            self.notify(problem_text(exc), severity="error", timeout=8, markup=False)
            return
        self.show(rebind)

    # -- completing --------------------------------------------------------------------

    def action_complete(self) -> None:
        self.finish("complete")

    def action_approve(self) -> None:
        self.finish("approve")

    def action_cancel_rebind(self) -> None:
        options = [(Text(_("Cancel this rebind"), style="bold #ff5f56"), True), (Text(_("Keep it")), False)]
        self.app.push_screen(Picker(_("Cancel the rebind?"), options), lambda yes: self.finish("cancel") if yes else None)

    @desk_work(group="rebind-write")
    async def finish(self, how: str) -> None:
        assert self.rebind is not None
        calls = {"complete": self.client.complete_rebind, "approve": self.client.approve_rebind,
                 "cancel": self.client.cancel_rebind}
        try:
            rebind = await calls[how](self.rebind.id)
        except ProblemError as exc:
            self.notify(problem_text(exc), severity="error", timeout=10, markup=False)
            return
        self.show(rebind)
        if rebind.status is RebindStatus.COMPLETED:
            self.notify(_("Rebind completed: {binding} is now the borrower's number",
                          binding=clean_line(rebind.new_binding or "")), markup=False)
        elif rebind.status is RebindStatus.AWAITING_APPROVAL:
            self.notify(_("Waiting for a supervisor's approval; the case is tagged awaiting-approval"), markup=False)

    # -- navigation --------------------------------------------------------------------

    def action_back(self) -> None:
        if self.mode is not None and self.mode != PHONE:
            self.set_mode(None)
            return
        self.router.back()
