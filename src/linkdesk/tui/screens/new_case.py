"""``n``: the new-case form. The desk validates; a 422 is shown next to the field."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static, TextArea

from linkdesk.client import ValidationFailed
from linkdesk.domain.cases import Case, CaseCategory, CaseCreate, Priority
from linkdesk.i18n import _
from linkdesk.tui import labels
from linkdesk.tui.screens.dialogs import FieldErrors
from linkdesk.tui.workers import desk_work

if TYPE_CHECKING:
    from linkdesk.client import DeskClient



class NewCaseScreen(FieldErrors, ModalScreen[Case | None]):
    FIELDS = ("category", "priority", "subject", "body", "phone")
    BINDINGS = [
        Binding("ctrl+s", "create", "Create", id="new_case.create", priority=True),
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    @property
    def client(self) -> DeskClient:
        return self.app.client  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box new-case"):
            yield Static(Content(_("New case")), classes="dialog-title")
            yield Static(Content(_("Category")), classes="field-label")
            yield Select(
                [(Text(labels.category(c)), c.value) for c in CaseCategory],
                prompt=_("Choose a category"),
                compact=True,
                id="category",
            )
            yield Static(Content(""), id="category-error", classes="field-error")
            yield Static(Content(_("Priority")), classes="field-label")
            yield Select(
                [(Text(labels.priority(p)), p.value) for p in Priority],
                value=Priority.NORMAL.value,
                allow_blank=False,
                compact=True,
                id="priority",
            )
            yield Static(Content(""), id="priority-error", classes="field-error")
            yield Static(Content(_("Subject")), classes="field-label")
            yield Input(id="subject", max_length=200, compact=True)
            yield Static(Content(""), id="subject-error", classes="field-error")
            yield Static(Content(_("Description")), classes="field-label")
            yield TextArea(id="body", soft_wrap=True, compact=True)
            yield Static(Content(""), id="body-error", classes="field-error")
            yield Static(Content(_("Phone number (optional)")), classes="field-label")
            yield Input(id="phone", placeholder="138 0013 8000", max_length=32, compact=True)
            yield Static(Content(""), id="phone-error", classes="field-error")
            yield Static(Content(""), id="form-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(Content(_("Create")), variant="primary", id="create")
                yield Button(Content(_("Cancel")), id="cancel")
            yield Static(Content(_("ctrl+s create · esc cancel")), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#category", Select).focus()

    def action_create(self) -> None:
        self.clear_errors()
        category = self.query_one("#category", Select).value
        if category is Select.NULL:
            self.show_error("category", _("Choose a category"))
            return
        payload = {
            "category": category,
            "priority": self.query_one("#priority", Select).value,
            "subject": self.query_one("#subject", Input).value,
            "body": self.query_one("#body", TextArea).text,
        }
        phone = self.query_one("#phone", Input).value.strip()
        if phone:
            payload["phone"] = phone
        # The desk is the judge of the input; the model only shapes the request, so a
        # local error (empty subject) reads like the desk's own 422.
        try:
            data = CaseCreate.model_validate(payload)
        except ValueError as exc:
            for error in getattr(exc, "errors", list)():
                field = str(error["loc"][0]) if error.get("loc") else "form"
                self.show_error(field, _("This field is required") if field == "subject" else str(error["msg"]))
            return
        self._submit(data)

    @desk_work(group="new-case")
    async def _submit(self, data: CaseCreate) -> None:
        try:
            case = await self.client.create_case(data)
        except ValidationFailed as exc:
            if not exc.field_errors:
                self.show_error("form", exc.problem.detail or exc.problem.title)
            for error in exc.field_errors:
                self.show_error(error.field.split(".")[-1], error.message)
            return
        self.dismiss(case)

    @on(Button.Pressed, "#create")
    def _create_pressed(self) -> None:
        self.action_create()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
