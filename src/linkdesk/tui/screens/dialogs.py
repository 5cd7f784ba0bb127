"""Small modal dialogs (pickers, text entry, the go-to prompt) and the error lines of form dialogs."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from linkdesk.domain.templates import Template, render, render_title
from linkdesk.domain.text import clean, clean_line
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
    """A multi-line text (comment, internal note); ctrl+s saves, escape cancels.

    ctrl+e edits the text in ``$VISUAL``/``$EDITOR`` (see :func:`edit_externally`);
    with ``templates``, ctrl+t picks a reply template, rendered with ``values`` in
    ``language`` and inserted at the cursor for editing.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="dialog.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        # priority: the text area would take ctrl+t / ctrl+e (end of line is also `end`)
        Binding("ctrl+t", "template", "Template", id="dialog.template", priority=True),
        Binding("ctrl+e", "editor", "Editor", id="dialog.editor", priority=True),
    ]

    def __init__(
        self,
        title: str,
        hint: str,
        *,
        variant: str = "comment",
        templates: Sequence[Template] = (),
        values: Mapping[str, str] | None = None,
        language: str = "en",
    ) -> None:
        super().__init__(classes=f"dialog -{variant}")
        self.title_text = title
        self.hint = hint
        self.templates = list(templates)
        self.values = dict(values or {})
        self.language = language

    def compose(self) -> ComposeResult:
        hint = self.hint
        extras = ([_("ctrl+t template")] if self.templates else []) + [_("ctrl+e editor")]
        hint = " · ".join([hint, *extras])
        with Vertical(classes="dialog-box entry"):
            yield Static(Content(self.title_text), classes="dialog-title")
            yield TextArea(id="entry-text", soft_wrap=True, show_line_numbers=False)
            yield Static(Content(""), id="entry-error", classes="field-error")
            yield Static(Content(hint), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "template":
            return bool(self.templates)
        return True

    def action_save(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.query_one("#entry-error", Static).update(Content(_("Write something first")))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_template(self) -> None:
        options = [
            (Text(clean_line(render_title(template, self.language))), template)
            for template in self.templates
        ]
        self.app.push_screen(Picker(_("Reply template"), options), self._insert_template)

    def _insert_template(self, template: Template | None) -> None:
        if template is None:
            return
        area = self.query_one(TextArea)
        area.insert(render(template, self.language, self.values))
        area.focus()

    def action_editor(self) -> None:
        area = self.query_one(TextArea)
        error = self.query_one("#entry-error", Static)
        try:
            edited = edit_externally(self.app, area.text)
        except SuspendNotSupported:
            error.update(Content(_("An external editor is not available in this terminal")))
            return
        except EditorFailed as exc:
            error.update(Content(clean_line(str(exc))))
            return
        error.update(Content(""))
        area.text = edited
        area.move_cursor(area.document.end)
        area.focus()


class EditorFailed(Exception):
    """The external editor could not run or exited with an error; the text is kept."""


def editor_command(environ: Mapping[str, str] | None = None) -> list[str]:
    """``$VISUAL``, else ``$EDITOR``, else ``vi``, split like a shell would
    (``code --wait`` works)."""
    env = os.environ if environ is None else environ
    command = env.get("VISUAL") or env.get("EDITOR") or "vi"
    try:
        return shlex.split(command) or ["vi"]
    except ValueError:
        return [command]


def edit_externally(app: App[Any], text: str) -> str:
    """Edit ``text`` in the user's editor with the console suspended; the edited text,
    cleaned of control characters. The temporary file is private (0600) and removed
    afterwards, whatever happens. Raises ``SuspendNotSupported`` (before running
    anything) where the console cannot hand the terminal over, and
    :class:`EditorFailed`."""
    fd, path = tempfile.mkstemp(prefix="linkdesk-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        command = [*editor_command(), path]
        with app.suspend():
            try:
                completed = subprocess.run(command, check=False)  # the user's own editor
            except OSError as exc:
                raise EditorFailed(_("Cannot run the editor {command}: {error}",
                                     command=command[0], error=exc.strerror or exc)) from None
        if completed.returncode != 0:
            raise EditorFailed(_("The editor exited with status {status}; the text is unchanged",
                                 status=completed.returncode))
        with open(path, encoding="utf-8", errors="replace") as file:
            return clean(file.read()).rstrip()
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


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
