"""Small modal dialogs (pickers, text entry, the go-to prompt) and the error lines of form dialogs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from linkdesk.domain.text import clean_line
from linkdesk.i18n import _


class Picker(ModalScreen[Any]):
    """Choose one of ``options`` (prompt, value); escape dismisses with ``None``."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("j", "down", show=False),
        Binding("k", "up", show=False),
    ]

    def __init__(
        self, title: str, options: Sequence[tuple[Text, Any]], *, current: Any = None
    ) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.values = [value for _prompt, value in options]
        self.prompts = [prompt for prompt, _value in options]
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box picker"):
            yield Static(Content(self.title_text), classes="dialog-title")
            yield OptionList(
                *(Option(prompt, id=str(index)) for index, prompt in enumerate(self.prompts)),
                markup=False,
                id="picker-options",
            )
            yield Static(Content(_("enter choose · esc cancel")), classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.current in self.values:
            options.highlighted = self.values.index(self.current)
        elif self.values:
            options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.values[int(event.option_id or 0)])

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextEntry(ModalScreen[str | None]):
    """A multi-line text (comment, internal note); ctrl+s saves, escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="dialog.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, title: str, hint: str, *, variant: str = "comment") -> None:
        super().__init__(classes=f"dialog -{variant}")
        self.title_text = title
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box entry"):
            yield Static(Content(self.title_text), classes="dialog-title")
            yield TextArea(id="entry-text", soft_wrap=True, show_line_numbers=False)
            yield Static(Content(""), id="entry-error", classes="field-error")
            yield Static(Content(self.hint), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.query_one("#entry-error", Static).update(Content(_("Write something first")))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class GotoPrompt(ModalScreen[str | None]):
    """``:case LD-000123``, ``:inbox``, ``:settings`` or just ``LD-000123``."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box goto"):
            yield Static(Content(_("Go to")), classes="dialog-title")
            yield Input(placeholder=_("case LD-000123 · inbox · settings"), id="goto-input")
            yield Static(Content(_("enter go · esc cancel")), classes="dialog-hint")

    def on_mount(self) -> None:
        self.add_class("dialog")
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class FieldErrors:
    """For a form dialog: an error line under each field (``#<field>-error``) and one for
    the whole form (``#form-error``). ``FIELDS`` names the fields."""

    FIELDS: ClassVar[tuple[str, ...]] = ()

    def show_error(self, field: str, message: str) -> None:
        target = field if field in self.FIELDS else "form"
        error = self.query_one(f"#{target}-error", Static)  # type: ignore[attr-defined]
        error.update(Content(clean_line(message)))
        error.add_class("-shown")
        if target != "form":
            self.query_one(f"#{target}").add_class("-invalid")  # type: ignore[attr-defined]

    def clear_errors(self) -> None:
        for name in (*self.FIELDS, "form"):
            error = self.query_one(f"#{name}-error", Static)  # type: ignore[attr-defined]
            error.update(Content(""))
            error.remove_class("-shown")
        for name in self.FIELDS:
            self.query_one(f"#{name}").remove_class("-invalid")  # type: ignore[attr-defined]
