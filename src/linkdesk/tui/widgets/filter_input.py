"""The inbox's filter input: the filter language with inline completion and a pointer
under the first bad term (docs/filters.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.cells import cell_len
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Input

from linkdesk.domain.text import clean_line
from linkdesk.tui.filter_terms import (
    FilterSuggester,
    TermError,
    complete,
    error_message,
    parse_filter,
)


class FilterInput(Input):
    """An :class:`Input` that completes keys and values (→ or tab accepts) and knows
    where its text is wrong. Agent names for ``assignee:`` are loaded once, on first focus."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete", show=False, id="filter.complete"),
    ]

    def __init__(self, load_agents: Callable[[], Awaitable[list[str]]] | None = None, **kwargs: object) -> None:
        self.agents: list[str] = []
        super().__init__(suggester=FilterSuggester(lambda: self.agents), **kwargs)  # type: ignore[arg-type]
        self._load_agents = load_agents

    def on_focus(self) -> None:
        if self._load_agents is not None:
            load, self._load_agents = self._load_agents, None
            self.run_worker(self._fetch_agents(load), group="filter-agents", exit_on_error=False)

    async def _fetch_agents(self, load: Callable[[], Awaitable[list[str]]]) -> None:
        try:
            self.agents = sorted(await load())
        except Exception:  # noqa: BLE001 - names are a convenience: complete without them
            self.agents = []

    def action_complete(self) -> None:
        """Take the completion; with none, tab moves on as it does elsewhere."""
        suggestion = complete(self.value, self.agents) if self.cursor_at_end else None
        if suggestion is None:
            self.screen.focus_next()
            return
        self.value = suggestion
        self.cursor_position = len(suggestion)

    @property
    def errors(self) -> list[TermError]:
        return parse_filter(self.value).errors

    def pointer(self, width: int) -> Content | None:
        """Carets under the first bad term and why, to show under the input (the message
        below the carets when both do not fit in ``width``; the term and the message
        when the carets do not either)."""
        errors = self.errors
        if not errors:
            return None
        error = errors[0]
        message = clean_line(error_message(error))
        # the carets sit under the term (the input's border and padding come first)
        before = self.gutter.left + cell_len(self.value[: error.start]) - round(self.scroll_x)
        pointer = Content.assemble(
            " " * max(0, before),
            ("^" * max(1, cell_len(self.value[error.start:error.end])), "bold $error"),
            " ",
            (message, "$error"),
        )
        if pointer.cell_length <= width:
            return pointer
        carets = Content.assemble(" " * max(0, before), ("^" * max(1, cell_len(self.value[error.start:error.end])), "bold $error"))
        if carets.cell_length <= width:  # the message on the line below the carets
            return Content.assemble(carets, "\n", (message, "$error"))
        return Content.assemble((f"“{clean_line(error.term)}”: ", "bold $error"), (message, "$error"))
