"""A borrower's privacy screen (route ``borrower/B-000042``, opened from a case with
``B``): masked identity, numbers, legal holds; export, correct, erase, place or lift a
hold — each shown only to roles the desk would let do it."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from linkdesk.domain.permissions import Permission
from linkdesk.domain.privacy_requests import (
    BorrowerCorrection,
    BorrowerDetail,
    ErasureReason,
    ErasureRequest,
    LegalHoldCreate,
)
from linkdesk.domain.refs import InvalidRef, borrower_ref, parse_borrower_ref
from linkdesk.domain.text import clean_line
from linkdesk.i18n import _
from linkdesk.resources import stylesheet
from linkdesk.tui.safe import day, line
from linkdesk.tui.screens.base import DeskScreen
from linkdesk.tui.screens.dialogs import Picker
from linkdesk.tui.widgets.key_bar import KeyBar
from linkdesk.tui.widgets.status_line import StatusLine
from linkdesk.tui.widgets.title_bar import TitleBar
from linkdesk.tui.workers import desk_work


def reason_labels() -> dict[ErasureReason, str]:
    return {
        ErasureReason.SUBJECT_REQUEST: _("The data subject asked for it"),
        ErasureReason.PURPOSE_FULFILLED: _("The purpose of processing is fulfilled"),
        ErasureReason.CONSENT_WITHDRAWN: _("Consent was withdrawn"),
        ErasureReason.RETENTION_EXPIRED: _("The retention period expired"),
        ErasureReason.UNLAWFUL_PROCESSING: _("The processing was unlawful"),
    }


class LineEntry(ModalScreen[str | None]):
    """One line of text (a file name, a reason, a typed confirmation); escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, hint: str, *, value: str = "") -> None:
        super().__init__(classes="dialog")
        self.title_text, self.hint, self.value = title, hint, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box goto"):
            yield Static(Content(self.title_text), classes="dialog-title")
            yield Input(value=self.value, id="line-input")
            yield Static(Content(self.hint), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class BorrowerScreen(DeskScreen):
    CSS_PATH = stylesheet("borrower")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "export", "Export", id="borrower.export"),
        Binding("c", "correct_name", "Correct name", id="borrower.correct_name"),
        Binding("n", "correct_id", "Correct ID", id="borrower.correct_id"),
        Binding("h", "hold", "Place hold", id="borrower.hold"),
        Binding("l", "lift", "Lift hold", id="borrower.lift"),
        Binding("X", "erase", "Erase", id="borrower.erase"),
        Binding("r", "reload", "Reload", id="borrower.reload"),
        Binding("escape", "back", "Back", id="borrower.back"),
    ]
    ACTION_PERMISSIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "export": (Permission.PRIVACY_EXPORT,),
        "correct_name": (Permission.PRIVACY_CORRECT,),
        "correct_id": (Permission.PRIVACY_CORRECT,),
        "hold": (Permission.LEGAL_HOLD,),
        "lift": (Permission.LEGAL_HOLD,),
        "erase": (Permission.PRIVACY_DELETE,),
    }

    def __init__(self, ref: str) -> None:
        super().__init__()
        try:
            self.ref = borrower_ref(parse_borrower_ref(ref))
        except InvalidRef:
            self.ref = clean_line(ref)[:20]
        self.borrower: BorrowerDetail | None = None

    def title_text(self) -> str:
        return _("Borrower {ref} · privacy", ref=self.ref)

    def compose(self) -> ComposeResult:
        yield TitleBar(self.title_text())
        yield Static(Content(""), id="borrower-identity")
        yield DataTable(id="borrower-bindings", cursor_type="row", zebra_stripes=True)
        yield Static(Content(_("Legal holds")), classes="section-title")
        yield DataTable(id="borrower-holds", cursor_type="row", zebra_stripes=True)
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#borrower-bindings", DataTable).add_columns(_("Number"), _("Status"), _("Bound"), _("Unbound"))
        self.query_one("#borrower-holds", DataTable).add_columns(_("Hold"), _("State"), _("Placed"), _("Reason"))
        self.query_one("#borrower-holds", DataTable).focus()
        self.load()

    @desk_work(group="borrower-load")
    async def load(self) -> None:
        self.show(await self.client.get_borrower(self.ref))

    def show(self, borrower: BorrowerDetail) -> None:
        self.borrower = borrower
        text = Text()
        if borrower.erased:
            text.append(_("Erased"), style="bold red")
            text.append("  " + _("The data key was destroyed: nothing of this borrower can be read."))
        else:
            text.append(_("Name") + "  ", style="dim")
            text.append(clean_line(borrower.name))
            text.append("    " + _("ID number") + "  ", style="dim")
            text.append(clean_line(borrower.id_number or "—"))
        if borrower.cases:
            text.append("\n" + _("Cases") + "  ", style="dim")
            text.append(" ".join(borrower.cases))
        self.query_one("#borrower-identity", Static).update(text)
        bindings = self.query_one("#borrower-bindings", DataTable)
        bindings.clear()
        for b in borrower.bindings:
            bindings.add_row(line(b.phone.masked), line(str(b.status)), line(day(b.bound_at)),
                             line(day(b.unbound_at) if b.unbound_at else "—"), key=b.ref)
        holds = self.query_one("#borrower-holds", DataTable)
        holds.clear()
        for hold in borrower.holds:
            state = _("active") if hold.active else _("lifted")
            holds.add_row(line(str(hold.id)), line(state), line(day(hold.placed_at)), line(hold.reason), key=str(hold.id))
        active = sum(1 for h in borrower.holds if h.active)
        self.set_position(_("{count} active holds", count=active))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if allowed and action in self.ACTION_PERMISSIONS and self.borrower is not None and self.borrower.erased:
            return False  # nothing is left to act on
        return allowed

    # -- export ---------------------------------------------------------------------------

    def action_export(self) -> None:
        from linkdesk.client.exports import default_export_path
        from linkdesk.config import data_dir

        suggested = default_export_path(data_dir(), self.ref)
        self.app.push_screen(
            LineEntry(_("Export {ref} to a file", ref=self.ref),
                      _("The file holds the decrypted data (mode 0600) · enter export · esc cancel"),
                      value=str(suggested)),
            self._export_to,
        )

    def _export_to(self, path: str | None) -> None:
        if path and path.strip():
            self.export(Path(path.strip()))

    @desk_work(group="borrower-export")
    async def export(self, path: Path) -> None:
        from linkdesk.client.exports import write_export

        if path.expanduser().exists():
            self.notify(_("{path} exists: choose another file", path=clean_line(str(path))), severity="warning",
                        markup=False)
            return
        document = await self.client.export_borrower(self.ref)
        written = write_export(document, path)
        self.notify(_("Exported {ref} to {path}", ref=self.ref, path=clean_line(str(written))), markup=False)

    # -- correction -----------------------------------------------------------------------

    def action_correct_name(self) -> None:
        self.app.push_screen(
            LineEntry(_("Correct the name of {ref}", ref=self.ref), _("The new name · enter save · esc cancel")),
            lambda value: self._correct("name", value),
        )

    def action_correct_id(self) -> None:
        self.app.push_screen(
            LineEntry(_("Correct the ID number of {ref}", ref=self.ref),
                      _("18 characters, GB 11643 check digit · enter save · esc cancel")),
            lambda value: self._correct("id_number", value),
        )

    def _correct(self, field: str, value: str | None) -> None:
        if not value or not value.strip() or self.borrower is None:
            return
        try:
            correction = BorrowerCorrection(**{field: value})
        except ValueError as exc:
            errors = getattr(exc, "errors", None)
            message = errors()[0]["msg"] if callable(errors) else str(exc)
            self.notify(clean_line(message), severity="warning", markup=False)
            return
        self.correct(correction, self.borrower.version)

    @desk_work(group="borrower-correct")
    async def correct(self, correction: BorrowerCorrection, version: int) -> None:
        self.show(await self.client.correct_borrower(self.ref, correction, version=version))
        self.notify(_("{ref} corrected; the before/after is on its cases' timelines", ref=self.ref), markup=False)

    # -- holds ----------------------------------------------------------------------------

    def action_hold(self) -> None:
        self.app.push_screen(
            LineEntry(_("Place a legal hold on {ref}", ref=self.ref),
                      _("The reason (at least 4 characters) · enter place · esc cancel")),
            self._hold,
        )

    def _hold(self, reason: str | None) -> None:
        if reason is None:
            return
        try:
            hold = LegalHoldCreate(reason=reason)
        except ValueError:
            self.notify(_("A hold needs a reason of at least 4 characters"), severity="warning", markup=False)
            return
        self.place(hold)

    @desk_work(group="borrower-hold")
    async def place(self, hold: LegalHoldCreate) -> None:
        await self.client.place_legal_hold(self.ref, hold)
        self.show(await self.client.get_borrower(self.ref))

    def action_lift(self) -> None:
        table = self.query_one("#borrower-holds", DataTable)
        if self.borrower is None or table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        hold = next((h for h in self.borrower.holds if str(h.id) == key), None)
        if hold is None or not hold.active:
            self.notify(_("Choose an active hold to lift"), severity="warning", markup=False)
            return
        self.lift(hold.id)

    @desk_work(group="borrower-hold")
    async def lift(self, hold_id: int) -> None:
        await self.client.lift_legal_hold(self.ref, hold_id)
        self.show(await self.client.get_borrower(self.ref))

    # -- erasure --------------------------------------------------------------------------

    def action_erase(self) -> None:
        options = [(Text(label), reason) for reason, label in reason_labels().items()]
        self.app.push_screen(Picker(_("Why is {ref} erased?", ref=self.ref), options), self._erase_reason)

    def _erase_reason(self, reason: ErasureReason | None) -> None:
        if reason is None:
            return
        self.app.push_screen(
            LineEntry(_("Erase {ref} for good?", ref=self.ref),
                      _("Its data key is destroyed; this cannot be undone. Type {ref} to confirm · esc cancel",
                        ref=self.ref)),
            lambda typed: self._confirmed(reason, typed),
        )

    def _confirmed(self, reason: ErasureReason, typed: str | None) -> None:
        if typed is None:
            return
        if typed.strip().upper() != self.ref:
            self.notify(_("Not confirmed: nothing was erased"), severity="warning", markup=False)
            return
        self.erase(ErasureRequest(reason=reason))

    @desk_work(group="borrower-erase")
    async def erase(self, request: ErasureRequest) -> None:
        await self.client.erase_borrower(self.ref, request)
        self.notify(_("{ref} was erased", ref=self.ref), markup=False)
        self.show(await self.client.get_borrower(self.ref))
