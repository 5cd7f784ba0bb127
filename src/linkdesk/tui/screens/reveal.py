"""``v`` on a case: reveal one full value, with a reason code and the agent's own words.

The dialog offers only what the case has and the agent's role may reveal. The desk is
the judge (role, open case, linked subject, hourly limit); whatever it refuses is said
here, in the dialog, with the desk's own words. On success the dialog is dismissed with
the desk's answer in a :class:`Sealed`, which the case screen shows for the desk's
display time and then forgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from linkdesk.client import (
    CaseClosed,
    Forbidden,
    ProblemError,
    RateLimited,
    Undecryptable,
    ValidationFailed,
)
from linkdesk.domain.cases import Case
from linkdesk.domain.reveal import REVEAL_PERMISSION, Revealed, RevealField, RevealReason
from linkdesk.domain.text import clean_line
from linkdesk.i18n import _
from linkdesk.tui import labels
from linkdesk.tui.screens.dialogs import FieldErrors
from linkdesk.tui.workers import desk_work

if TYPE_CHECKING:
    from collections.abc import Callable

    from linkdesk.client import DeskClient

MIN_NOTE = 4


@dataclass(frozen=True)
class RevealChoice:
    """One thing the agent may reveal on this case."""

    field: RevealField
    binding: str | None
    label: str
    """What it is, in the agent's language: ``Case number``, ``Number P-12``…"""
    masked: str
    """What the console already shows of it: ``138****1234``, ``张*``."""
    note: str = ""


def reveal_choices(case: Case, may: Callable[[str], bool]) -> list[RevealChoice]:
    """What the case holds that the agent's role may reveal, in the order agents need it."""
    choices: list[RevealChoice] = []
    may_phone = may(REVEAL_PERMISSION[RevealField.PHONE])
    if case.phone and may_phone:
        choices.append(RevealChoice(RevealField.PHONE, None, _("Case number"), clean_line(case.phone)))
    borrower = case.borrower
    if borrower is None:
        return choices
    if may(REVEAL_PERMISSION[RevealField.NAME]):
        choices.append(RevealChoice(RevealField.NAME, None, _("Borrower's name"), clean_line(borrower.name)))
    if borrower.id_number and may(REVEAL_PERMISSION[RevealField.ID_NUMBER]):
        choices.append(
            RevealChoice(RevealField.ID_NUMBER, None, _("ID number"), clean_line(borrower.id_number))
        )
    if may_phone:
        for binding in sorted(borrower.bindings, key=lambda b: b.bound_at, reverse=True):
            choices.append(
                RevealChoice(
                    RevealField.PHONE,
                    clean_line(binding.ref),
                    _("Number {binding}", binding=clean_line(binding.ref)),
                    clean_line(binding.phone.masked),
                    labels.binding_status(binding.status),
                )
            )
    return choices


class Sealed:
    """The desk's answer on its way to the case screen. Its ``repr`` never shows the value:
    Textual's devtools log messages and callbacks with their arguments."""

    __slots__ = ("revealed",)

    def __init__(self, revealed: Revealed) -> None:
        self.revealed = revealed

    def __repr__(self) -> str:
        return f"<revealed {self.revealed.field} · audit #{self.revealed.audit_seq}>"


def retry_text(seconds: int | None) -> str:
    if seconds is None:
        return _("later")
    if seconds < 120:
        return _("{count} s", count=seconds)
    return _("{count} min", count=(seconds + 59) // 60)


class RevealDialog(FieldErrors, ModalScreen[Sealed | None]):
    FIELDS = ("what", "reason", "note")
    BINDINGS = [
        Binding("ctrl+s", "reveal", "Reveal", id="reveal.confirm", priority=True),
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, ref: str, choices: list[RevealChoice], *, display_seconds: int | None = None) -> None:
        super().__init__(classes="dialog")
        self.ref = ref
        self.choices = choices
        self.display_seconds = display_seconds
        self.busy = False

    @property
    def client(self) -> DeskClient:
        return self.app.client  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box reveal"):
            yield Static(Content(_("Reveal on {ref}", ref=self.ref)), classes="dialog-title")
            if self.display_seconds:
                shown = _("The value is shown for {seconds} s, then masked again.", seconds=self.display_seconds)
            else:
                shown = _("The value is shown for a short time, then masked again.")
            yield Static(
                Content(shown + " " + _("Every reveal is recorded in the audit chain with your reason.")),
                classes="reveal-explain",
            )
            yield Static(Content(_("What")), classes="field-label")
            options = []
            for index, choice in enumerate(self.choices):
                prompt = Text(choice.label + "  ", end="")
                prompt.append(choice.masked, style="dim")
                if choice.note:
                    prompt.append(f"  {choice.note}", style="dim")
                options.append((prompt, index))
            yield Select(options, value=0, allow_blank=False, compact=True, id="what")
            yield Static(Content(""), id="what-error", classes="field-error")
            yield Static(Content(_("Reason")), classes="field-label")
            yield Select(
                [(Text(labels.reveal_reason(reason)), reason.value) for reason in RevealReason],
                prompt=_("Choose a reason"),
                compact=True,
                id="reason",
            )
            yield Static(Content(""), id="reason-error", classes="field-error")
            yield Static(Content(_("Why, in your words")), classes="field-label")
            yield Input(
                placeholder=_("at least {count} characters, e.g. caller confirmed DOB", count=MIN_NOTE),
                max_length=500,
                compact=True,
                id="note",
            )
            yield Static(Content(""), id="note-error", classes="field-error")
            yield Static(Content(""), id="form-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(Content(_("Reveal")), variant="warning", id="confirm")
                yield Button(Content(_("Cancel")), id="cancel")
            yield Static(Content(_("ctrl+s reveal · esc cancel")), classes="dialog-hint")

    def on_mount(self) -> None:
        target = "#reason" if len(self.choices) == 1 else "#what"
        self.query_one(target).focus()

    # -- errors ------------------------------------------------------------------------

    # -- revealing ---------------------------------------------------------------------

    def action_reveal(self) -> None:
        if self.busy:
            return
        self.clear_errors()
        what = self.query_one("#what", Select).value
        reason = self.query_one("#reason", Select).value
        note = self.query_one("#note", Input).value.strip()
        ok = True
        if not isinstance(what, int):
            self.show_error("what", _("Choose what to reveal"))
            ok = False
        if reason is Select.NULL:
            self.show_error("reason", _("Choose a reason: it is recorded with the reveal"))
            ok = False
        if len(note) < MIN_NOTE:
            self.show_error(
                "note", _("Say why in at least {count} characters: it is recorded with the reveal", count=MIN_NOTE)
            )
            ok = False
        if not ok or not isinstance(what, int):
            return
        self.busy = True
        self.query_one("#confirm", Button).disabled = True
        self._reveal(self.choices[what], RevealReason(str(reason)), note)

    @desk_work(group="reveal")
    async def _reveal(self, choice: RevealChoice, reason: RevealReason, note: str) -> None:
        try:
            revealed = await self.client.reveal(
                self.ref, choice.field, reason=reason, note=note, binding=choice.binding
            )
        except ProblemError as exc:
            self.refused(exc)
            return
        finally:
            self.busy = False
            if self.is_mounted:
                self.query_one("#confirm", Button).disabled = False
        # the worker keeps its result: it returns nothing so the value is not kept there
        self.dismiss(Sealed(revealed))

    def refused(self, error: ProblemError) -> None:
        """Say in the dialog why the desk refused, in its words."""
        detail = clean_line(error.problem.detail or error.problem.title)
        if isinstance(error, RateLimited):
            self.show_error(
                "form", _("Too many reveals: try again in {when}. {detail}", when=retry_text(error.retry_after), detail=detail)
            )
        elif isinstance(error, CaseClosed):
            self.show_error("form", _("The case is not open: {detail}", detail=detail))
        elif isinstance(error, Undecryptable):
            self.show_error("form", _("The stored value is damaged: {detail}", detail=detail))
        elif isinstance(error, Forbidden):
            self.show_error("form", _("Your role may not reveal this: {detail}", detail=detail))
        elif isinstance(error, ValidationFailed) and error.field_errors:
            for field_error in error.field_errors:
                name = field_error.field.split(".")[-1]
                self.show_error("what" if name in ("field", "binding") else name, field_error.message)
        else:
            self.show_error("form", detail)

    @on(Button.Pressed, "#confirm")
    def _confirm_pressed(self) -> None:
        self.action_reveal()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#note")
    def _note_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_reveal()

    def action_cancel(self) -> None:
        self.dismiss(None)
