"""The contact log of a case's borrower (route ``contacts``) and the masked-call dialog.

The screen says first whether a call to the debtor is allowed now (the desk's full
compliance check, the refusing rule named), then the active masked calls with their
time left, then the log, newest first. ``n`` opens the form to log a contact: the
verdict for the chosen channel and party is shown as the pickers change, before anything
is recorded; saving a refused contact only records the refusal. ``m`` asks for a privacy
number; ``x`` ends the newest one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from linkdesk.client.errors import ContactRefused, ProblemError
from linkdesk.domain.contact import (
    ContactChannel,
    ContactCheck,
    ContactCheckRequest,
    ContactCreate,
    ContactDirection,
    ContactEntry,
    ContactOutcome,
    ContactParty,
    ContactRule,
    MaskedCall,
    MaskedCallCreate,
)
from linkdesk.domain.permissions import Permission
from linkdesk.domain.text import clean_line
from linkdesk.i18n import _
from linkdesk.resources import stylesheet
from linkdesk.tui.safe import when
from linkdesk.tui.screens.base import DeskScreen
from linkdesk.tui.widgets.key_bar import KeyBar
from linkdesk.tui.widgets.status_line import StatusLine
from linkdesk.tui.widgets.title_bar import TitleBar
from linkdesk.tui.workers import desk_work


def channel_label(value: ContactChannel) -> str:
    return {ContactChannel.CALL: _("call"), ContactChannel.SMS: _("SMS"),
            ContactChannel.APP_MESSAGE: _("app message")}[value]


def party_label(value: ContactParty) -> str:
    return {ContactParty.DEBTOR: _("debtor"), ContactParty.THIRD_PARTY: _("third party"),
            ContactParty.EMERGENCY_CONTACT: _("emergency contact"), ContactParty.FAMILY: _("family"),
            ContactParty.EMPLOYER: _("employer")}[value]


def outcome_label(value: ContactOutcome) -> str:
    return {ContactOutcome.CONNECTED: _("connected"), ContactOutcome.NO_ANSWER: _("no answer"),
            ContactOutcome.BUSY: _("busy"), ContactOutcome.REFUSED: _("refused"),
            ContactOutcome.VOICEMAIL: _("voicemail"), ContactOutcome.DELIVERED: _("delivered"),
            ContactOutcome.FAILED: _("failed")}[value]


def rule_label(rule: ContactRule | str | None) -> str:
    labels = {
        ContactRule.NOT_DEBTOR: _("not the debtor"), ContactRule.QUIET_HOURS: _("quiet hours"),
        ContactRule.DAILY_CALL_LIMIT: _("daily call limit"), ContactRule.DO_NOT_CONTACT: _("do not contact"),
        ContactRule.STOP_CONTACT: _("stop contact"), ContactRule.BINDING_INACTIVE: _("number no longer the borrower's"),
        ContactRule.NO_NUMBER: _("no number"),
    }
    try:
        return labels[ContactRule(str(rule))]
    except ValueError:
        return clean_line(str(rule))


def verdict_text(check: ContactCheck | None) -> Text:
    """``✔ allowed …`` or ``✘ refused · quiet hours (quiet_hours): …``; the detail cleaned."""
    if check is None:
        return Text(_("checking the collection rules…"), style="dim")
    if check.allowed:
        return Text.assemble(("✔ " + _("allowed"), "bold green"), "  ", clean_line(check.detail))
    return Text.assemble(
        ("✘ " + _("refused") + f" · {rule_label(check.rule)} ({check.rule})", "bold red"),
        "  ", clean_line(check.detail),
    )


def time_left(expires_at: datetime, now: datetime) -> str:
    seconds = max(0, int((expires_at - now).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def entry_text(entry: ContactEntry) -> Text:
    text = Text.assemble(
        (when(entry.contacted_at), "dim"), "  ", (channel_label(entry.channel), "bold"), " ",
        "→ " if entry.direction is ContactDirection.OUTBOUND else "← ", party_label(entry.party), "  ",
        outcome_label(entry.outcome), "  ", (clean_line(entry.phone or "—"), "dim"),
        "  ", (clean_line(entry.agent), "dim"),
    )
    if entry.note:
        text.append("\n    " + clean_line(entry.note))
    return text


def call_text(call: MaskedCall, now: datetime) -> Text:
    return Text.assemble(
        (_("dial") + " ", "dim"), (clean_line(call.secret_no), "bold"), "  ",
        _("reaches {phone}", phone=clean_line(call.phone or "—")), "  ",
        (_("{left} left", left=time_left(call.expires_at, now)), "bold yellow"),
    )


def _enum_label(label: Any, enum: Any, value: Any) -> str:
    try:
        return str(label(enum(value)))
    except ValueError:
        return clean_line(str(value))


def contact_event_text(kind: str, data: dict[str, Any]) -> Text:
    """A ``contact`` or ``masked_call`` timeline event in one line (case screen)."""
    binding = clean_line(str(data.get("binding") or ""))
    if kind == "masked_call":
        if data.get("ended"):
            return Text(_("privacy number {x} ended", x=clean_line(str(data.get("secret_no", "")))), style="dim")
        expires = clean_line(str(data.get("expires_at", "")))[:16].replace("T", " ")
        return Text(_("privacy number {x} for {binding} until {until} UTC",
                      x=clean_line(str(data.get("secret_no", ""))), binding=binding, until=expires), style="dim")
    channel = _enum_label(channel_label, ContactChannel, data.get("channel"))
    party = _enum_label(party_label, ContactParty, data.get("party"))
    if data.get("refused"):
        return Text("✘ " + _("refused · {rule} · {channel} to {party}", rule=rule_label(data.get("rule")),
                                channel=channel, party=party), style="bold red")
    outcome = _enum_label(outcome_label, ContactOutcome, data.get("outcome"))
    return Text(f"{channel} · {party} · {outcome}" + (f" · {binding}" if binding else ""), style="dim")


class ContactForm(ModalScreen[ContactCreate | None]):
    """Log one contact: channel, party, outcome, note; the verdict is shown before saving."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="dialog.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, ref: str) -> None:
        super().__init__(classes="dialog")
        self.ref = ref
        self.verdict: ContactCheck | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box contact-form"):
            yield Static(Content(_("Log a contact on {ref}", ref=self.ref)), classes="dialog-title")
            with Horizontal(classes="contact-pickers"):
                yield Select([(Text(channel_label(c)), c) for c in ContactChannel], value=ContactChannel.CALL,
                             allow_blank=False, compact=True, id="contact-channel")
                yield Select([(Text(party_label(p)), p) for p in ContactParty], value=ContactParty.DEBTOR,
                             allow_blank=False, compact=True, id="contact-party")
                yield Select([(Text(_("outbound")), ContactDirection.OUTBOUND), (Text(_("inbound")),
                              ContactDirection.INBOUND)], value=ContactDirection.OUTBOUND, allow_blank=False,
                             compact=True, id="contact-direction")
                yield Select([(Text(outcome_label(o)), o) for o in ContactOutcome], value=ContactOutcome.CONNECTED,
                             allow_blank=False, compact=True, id="contact-outcome")
            yield Input(placeholder=_("note (optional)"), max_length=500, id="contact-note")
            yield Static(verdict_text(None), id="contact-verdict")
            yield Static(Content(_("ctrl+s save · esc cancel")), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#contact-channel", Select).focus()
        self.run_check()

    def _value(self, name: str) -> Any:
        return self.query_one(f"#contact-{name}", Select).value

    @on(Select.Changed)
    def _changed(self, _event: Select.Changed) -> None:
        self.run_check()

    @desk_work(group="contact-form-check")
    async def run_check(self) -> None:
        request = ContactCheckRequest(channel=self._value("channel"), party=self._value("party"),
                                      direction=self._value("direction"))
        self.verdict = None
        self.query_one("#contact-verdict", Static).update(verdict_text(None))
        self.verdict = await self.app.client.check_contact(self.ref, request)  # type: ignore[attr-defined]
        self.query_one("#contact-verdict", Static).update(verdict_text(self.verdict))

    def action_save(self) -> None:
        if self.verdict is None:
            return
        # a refused contact still goes to the desk: it refuses it again and records the
        # refused attempt in the case's timeline (nothing is logged as contact)
        self.dismiss(ContactCreate(
            channel=self._value("channel"), party=self._value("party"), direction=self._value("direction"),
            outcome=self._value("outcome"), note=self.query_one("#contact-note", Input).value,
            binding=self.verdict.binding,
        ))

    def action_cancel(self) -> None:
        self.dismiss(None)


class MaskedCallDialog(ModalScreen[MaskedCall | None]):
    """Ask for a privacy number X, then show it with the time left until it expires."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="dialog.cancel"),
    ]

    def __init__(self, ref: str) -> None:
        super().__init__(classes="dialog")
        self.ref = ref
        self.call: MaskedCall | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box masked-call"):
            yield Static(Content(_("Masked call to the borrower of {ref}", ref=self.ref)), classes="dialog-title")
            yield Input(placeholder=_("your work line, e.g. 139 0000 1111"), max_length=32, id="masked-line")
            yield Input(value="30", placeholder=_("minutes (2–1440)"), max_length=4, id="masked-minutes")
            yield Static(Content(""), id="masked-result")
            yield Static(Content(_("enter ask · esc close")), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#masked-line", Input).focus()
        self.set_interval(1.0, self.tick)

    @on(Input.Submitted)
    def _submitted(self, _event: Input.Submitted) -> None:
        if self.call is None:
            self.ask()

    @desk_work(group="masked-call")
    async def ask(self) -> None:
        result = self.query_one("#masked-result", Static)
        minutes = self.query_one("#masked-minutes", Input).value.strip()
        if not minutes.isdigit() or not 2 <= int(minutes) <= 24 * 60:
            result.update(Text(_("Minutes: a whole number from 2 to 1440"), style="red"))
            return
        line = self.query_one("#masked-line", Input).value
        try:
            self.call = await self.app.client.request_masked_call(  # type: ignore[attr-defined]
                self.ref, MaskedCallCreate(agent_line=line or "-----", expires_in=int(minutes)))
        except ContactRefused as refused:
            result.update(Text.assemble(("✘ " + _("refused") + f" · {rule_label(refused.rule)} ({refused.rule})",
                                         "bold red"), "  ", clean_line(str(refused))))
            return
        except ProblemError as problem:
            result.update(Text(clean_line(str(problem)), style="red"))
            return
        self.tick()

    def tick(self) -> None:
        if self.call is not None:
            now = self.app.clock()  # type: ignore[attr-defined]
            self.query_one("#masked-result", Static).update(call_text(self.call, now))

    def action_close(self) -> None:
        self.dismiss(self.call)


class ContactScreen(DeskScreen):
    CSS_PATH = stylesheet("contact")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "log", "Log a contact", id="contact.log"),
        Binding("m", "masked_call", "Masked call", id="contact.masked_call"),
        Binding("x", "end_call", "End masked call", id="contact.end_call"),
        Binding("r", "reload", "Reload", id="contact.reload"),
        Binding("escape", "back", "Back", id="contact.back"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "log": (Permission.CONTACT_LOG,),
        "masked_call": (Permission.CONTACT_CALL,),
        "end_call": (Permission.CONTACT_CALL,),
    }

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
        self.entries: list[ContactEntry] = []
        self.calls: list[MaskedCall] = []

    def title_text(self) -> str:
        return _("Contacts · {ref}", ref=self.ref)

    def compose(self) -> ComposeResult:
        yield TitleBar(self.title_text())
        yield Static(verdict_text(None), id="contact-rules")
        yield Static(Content(""), id="contact-calls")
        yield VerticalScroll(id="contact-log")
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        self.load_contacts()
        self.set_interval(1.0, self.render_calls)

    def permissions_changed(self) -> None:
        self.refresh_bindings()
        self.load_contacts()

    @desk_work(group="contact-load")
    async def load_contacts(self) -> None:
        client = self.client
        check = await client.contact_check(self.ref)
        self.query_one("#contact-rules", Static).update(
            Text.assemble((_("Call the debtor now:") + " ", "bold"), verdict_text(check)))
        self.entries = list((await client.case_contacts(self.ref, limit=100)).items)
        if self.app.may(Permission.CONTACT_CALL):  # type: ignore[attr-defined]
            self.calls = await client.masked_calls(case=self.ref)
        self.render_calls()
        log = self.query_one("#contact-log", VerticalScroll)
        await log.remove_children()
        if not self.entries:
            await log.mount(Static(Content(_("No contact logged on {ref} yet.", ref=self.ref)), classes="contact-empty"))
        else:
            await log.mount_all([Static(entry_text(entry), classes="contact-entry") for entry in self.entries])

    def render_calls(self) -> None:
        now = self.app.clock()  # type: ignore[attr-defined]
        live = [call for call in self.calls if call.expires_at > now and call.ended_at is None]
        calls = self.query_one("#contact-calls", Static)
        calls.display = bool(live)
        calls.update(Text("\n").join(call_text(call, now) for call in live) if live else Text(""))

    def action_log(self) -> None:
        self.app.push_screen(ContactForm(self.ref), lambda data: self.record_contact(data) if data else None)

    @desk_work(group="contact-log")
    async def record_contact(self, data: ContactCreate) -> None:
        try:
            await self.client.log_contact(self.ref, data)
        except ContactRefused as refused:
            self.notify(_("Refused ({rule}): {why}", rule=rule_label(refused.rule), why=clean_line(str(refused))),
                        severity="warning", markup=False)
        else:
            self.notify(_("Contact logged"), markup=False)
        self.load_contacts()

    def action_masked_call(self) -> None:
        self.app.push_screen(MaskedCallDialog(self.ref), lambda _call: self.load_contacts())

    def action_end_call(self) -> None:
        now = self.app.clock()  # type: ignore[attr-defined]
        live = [call for call in self.calls if call.expires_at > now and call.ended_at is None]
        if live:
            self.end_call(live[0].id)

    @desk_work(group="contact-end-call")
    async def end_call(self, call_id: int) -> None:
        await self.client.end_masked_call(call_id)
        self.notify(_("Masked call ended"), markup=False)
        self.load_contacts()

    def load(self) -> None:
        self.load_contacts()

    def retranslate(self) -> None:
        super().retranslate()
        self.load_contacts()
