"""The recycled-number playbook of one case (route ``playbook/LD-000123``).

The six steps are listed with a mark each; ``enter`` runs them one after another in a
worker, each step one request to the desk (which runs it exactly once). ``escape``
stops between steps — the step under way finishes, as the desk records it whole — and
the next ``enter`` resumes from where the desk says the playbook is. Before the reply
is posted its text is shown: ``enter`` posts it, ``e`` edits it first.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static, TextArea

from linkdesk.client import ProblemError
from linkdesk.domain.permissions import Permission
from linkdesk.domain.playbook import Code, PlaybookState, Step, StepState, StepStatus
from linkdesk.domain.text import clean_line
from linkdesk.i18n import _, current_language
from linkdesk.resources import stylesheet
from linkdesk.tui.safe import block, line, when
from linkdesk.tui.screens.base import DeskReconnected, DeskScreen
from linkdesk.tui.screens.dialogs import TextEntry
from linkdesk.tui.widgets.key_bar import KeyBar
from linkdesk.tui.widgets.status_line import StatusLine
from linkdesk.tui.widgets.title_bar import TitleBar
from linkdesk.tui.workers import desk_work

RUNNING = "running"
MARKS: dict[str, tuple[str, str]] = {
    StepStatus.PENDING: ("○", "dim"),
    RUNNING: ("◐", "bold #e8b04a"),
    StepStatus.DONE: ("✓", "bold #3fb8af"),
    StepStatus.SKIPPED: ("–", "dim"),
    StepStatus.STOPPED: ("■", "bold #ff5f56"),
    StepStatus.FAILED: ("✗", "bold #ff9f1a"),
}


def step_title(step: Step) -> str:
    return {
        Step.LOOKUP: _("Look up who is bound to the number"),
        Step.CONFIRM: _("Confirm the reassignment with phone intelligence"),
        Step.UNBIND: _("End the binding as reassigned"),
        Step.DO_NOT_CONTACT: _("Put the number on do-not-contact"),
        Step.FOLLOW_UP: _("Open a follow-up for the borrower"),
        Step.REPLY: _("Reply to the complainant and resolve"),
    }[step]


def status_word(status: str) -> str:
    return {
        StepStatus.PENDING: _("pending"),
        RUNNING: _("running…"),
        StepStatus.DONE: _("completed"),
        StepStatus.SKIPPED: _("skipped (not needed)"),
        StepStatus.STOPPED: _("stopped here"),
        StepStatus.FAILED: _("failed, run it again"),
    }[status]


def code_words(code: Code | None) -> str | None:
    """A step's outcome in the agent's language (the desk's detail adds the facts)."""
    words = {
        Code.NO_BINDING: _("no borrower bound to this number"),
        Code.NOT_CONFIRMED: _("not confirmed — investigate"),
        Code.UNKNOWN: _("the provider does not know; try again later"),
        Code.UNAVAILABLE: _("phone intelligence unavailable; try again"),
        Code.ALREADY_LISTED: _("already on the list"),
        Code.ALREADY_UNBOUND: _("already unbound"),
    }
    return words.get(code) if code else None


class ReplyEntry(TextEntry):
    """The reply, pre-filled, to edit before it is posted."""

    def __init__(self, title: str, hint: str, text: str) -> None:
        super().__init__(title, hint)
        self.initial = text

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(TextArea).load_text(self.initial)


class PlaybookScreen(DeskScreen):
    CSS_PATH = stylesheet("playbook")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "run", "Run / post", id="playbook.run"),
        Binding("e", "edit_reply", "Edit reply", id="playbook.edit"),
        Binding("escape", "stop", "Stop / back", id="playbook.stop"),
        Binding("r", "reload", "Reload", id="playbook.reload"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "run": (Permission.CASES_UPDATE,),
        "edit_reply": (Permission.CASES_UPDATE,),
    }

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
        self.state: PlaybookState | None = None
        self.running: Step | None = None
        self.stop_asked = False
        self.reply: str | None = None
        """The agent's edited reply (None: the template's)."""
        self.problem: str | None = None
        self.changed = False
        """A step ran: the case underneath reloads when the agent goes back."""

    def title_text(self) -> str:
        return _("Playbook {ref}", ref=self.ref)

    def compose(self) -> ComposeResult:
        yield TitleBar(self.title_text())
        with Vertical(id="playbook-head"):
            yield Static(Content(_("Recycled-number complaint: the playbook of {ref}", ref=self.ref)),
                         id="playbook-title")
            yield Static(Content(""), id="playbook-message")
        with VerticalScroll(id="playbook-body"):
            for step in Step:
                yield Static(Content(""), id=f"step-{step}", classes="step")
            yield Static(Content(""), id="playbook-reply")
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_position(self.ref)
        self.load()

    @property
    def run_active(self) -> bool:
        return any(w.name == "run_steps" and not w.is_finished for w in self.workers)

    # -- loading and running -----------------------------------------------------------

    @desk_work(group="playbook-load")
    async def load(self) -> None:
        self.show(await self.client.playbook(self.ref, language=current_language()))

    def on_desk_reconnected(self, _message: DeskReconnected) -> None:
        if not self.run_active:
            self.load()

    def action_reload(self) -> None:
        if not self.run_active:
            self.load()

    def action_run(self) -> None:
        if self.run_active or self.state is None:
            return
        if self.state.next_step is None:
            self.notify(_("Nothing left to run on {ref}", ref=self.ref), markup=False)
            return
        self.stop_asked = False
        self.run_worker(self.run_steps(), name="run_steps", group="playbook-run", exclusive=True)

    def action_stop(self) -> None:
        if self.run_active:
            self.stop_asked = True
            self.render_state()
            return
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 else None
        if self.router.back() and self.changed and below is not None:
            below.post_message(DeskReconnected())  # the case shows the steps' changes

    async def run_steps(self) -> None:
        """Step after step until done, stopped, failed, at the reply (posted only on a
        second ``enter``), or the agent asks to stop."""
        posting = self.state is not None and self.state.next_step is Step.REPLY
        while self.state is not None and self.state.next_step is not None and not self.stop_asked:
            step = self.state.next_step
            if step is Step.REPLY and not posting:
                break  # show the reply first: the next enter posts it
            self.running, self.problem = step, None
            self.render_state()
            try:
                state = await self.client.playbook_next(
                    self.ref, language=current_language(), reply=self.reply if step is Step.REPLY else None
                )
            except ProblemError as exc:
                self.problem = clean_line(exc.problem.title) + (
                    ": " + clean_line(exc.problem.detail) if exc.problem.detail else "")
                break
            except Exception as exc:  # noqa: BLE001 - shown to the agent, the run ends
                self.running = None
                self.app.report_error(exc)  # type: ignore[attr-defined]
                self.render_state()
                return
            finally:
                self.running = None
            self.show(state)
            self.changed = True
            posting = False
            if any(s.step is step and s.status is StepStatus.FAILED for s in state.steps):
                break  # the same step is next again: the agent decides when to retry
        self.running = None
        self.render_state()

    def action_edit_reply(self) -> None:
        state = self.state
        if self.run_active or state is None or state.next_step is not Step.REPLY:
            return
        text = self.reply or state.reply_preview or ""

        def edited(new: str | None) -> None:
            if new:
                self.reply = new
                self.render_state()

        self.app.push_screen(
            ReplyEntry(_("Reply to the complainant on {ref}", ref=self.ref),
                       _("ctrl+s keep · esc cancel · the complainant sees this"), text),
            edited,
        )

    # -- rendering ---------------------------------------------------------------------

    def show(self, state: PlaybookState) -> None:
        self.state = state
        self.render_state()

    def step_text(self, item: StepState, number: int) -> Text:
        status = RUNNING if self.running is item.step else str(item.status)
        mark, style = MARKS[status]
        text = Text(end="")
        text.append(f" {mark} ", style=style)
        text.append(f"{number}. ")
        text.append(step_title(item.step), style="bold" if status == RUNNING else "")
        text.append("  " + status_word(status), style=style)
        if status != RUNNING:
            # the desk's detail says it in English; other languages get the outcome in theirs
            words = code_words(item.code) if current_language() != "en" else None
            if words:
                text.append("\n     " + words, style=style)
            if item.detail and (item.status is not StepStatus.SKIPPED or words is None):
                text.append("\n     ")
                text.append_text(line(item.detail, "dim"))
            if item.at is not None:
                text.append(f"  {when(item.at)}", style="dim")
        return text

    def message(self) -> Text:
        state = self.state
        if state is None:
            return Text(_("Loading the playbook…"), style="dim")
        if self.problem:
            return Text(self.problem, style="bold #ff5f56")
        if self.running is not None:
            if self.stop_asked:
                return Text(_("Stopping after this step…"), style="bold #e8b04a")
            return Text(_("Running — esc stops after this step"), style="bold")
        if state.finished:
            done = _("The playbook is done.")
            if state.follow_up:
                done += " " + _("Follow-up: {ref}", ref=clean_line(state.follow_up))
            return Text(done, style="bold #3fb8af")
        if state.stopped:
            text = Text(_("The playbook stopped:") + " ", style="bold #ff5f56")
            text.append_text(line(state.stopped))
            return text
        if state.next_step is Step.REPLY:
            return Text(_("Check the reply below: enter posts it and resolves the case, e edits it"), style="bold")
        if self.stop_asked:
            return Text(_("Stopped. enter resumes from step {n}", n=list(Step).index(state.next_step) + 1)
                        if state.next_step else "", style="bold #e8b04a")
        if any(s.status is not StepStatus.PENDING for s in state.steps):
            return Text(_("enter resumes from step {n}", n=list(Step).index(state.next_step) + 1)
                        if state.next_step else "")
        return Text(_("enter runs the steps one after another; esc stops between steps"))

    def render_state(self) -> None:
        state = self.state
        self.query_one("#playbook-message", Static).update(self.message())
        if state is None:
            return
        for number, item in enumerate(state.steps, start=1):
            self.query_one(f"#step-{item.step}", Static).update(self.step_text(item, number))
        reply = self.query_one("#playbook-reply", Static)
        if state.next_step is Step.REPLY and self.running is None:
            text = Text(_("Reply to be posted (public)") + ("  " + _("(edited by you)") if self.reply else "") + "\n",
                        style="bold underline", end="")
            text.append_text(block(self.reply or state.reply_preview or ""))
            reply.update(text)
            reply.display = True
        else:
            reply.display = False

    def retranslate(self) -> None:
        super().retranslate()
        if not self.run_active:
            self.load()  # the reply's preview is in the new language too
