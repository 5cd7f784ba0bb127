"""The audit chain, newest first: a sliding window of cursor pages like the inbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from linkdesk.domain.audit import AuditAction, AuditRecord
from linkdesk.domain.paging import Page
from linkdesk.tui import labels
from linkdesk.tui.labels import N_
from linkdesk.tui.safe import line
from linkdesk.tui.widgets.paged_table import PagedTable


@dataclass(frozen=True)
class AuditFilters:
    """What the audit screen's filter line asks for (``since``/``until``: ISO instants)."""

    actor: str | None = None
    action: AuditAction | None = None
    case: str | None = None
    since: str | None = None
    until: str | None = None


Fetch = Callable[[AuditFilters, str | None, int], Awaitable[Page[AuditRecord]]]

ACTION_STYLES: dict[AuditAction, str] = {
    AuditAction.REVEAL: "bold #e8b04a",
    AuditAction.REVEAL_FAILED: "bold #ff5f56",
    AuditAction.EXPORT: "#e8b04a",
    AuditAction.DELETION: "#e8b04a",
    AuditAction.LOGIN: "dim",
    AuditAction.CHECKPOINT: "dim",
}


def local_time(moment: datetime) -> str:
    """A moment in the terminal's local time zone, to the second."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


class AuditTable(PagedTable[AuditRecord]):
    COLUMNS = (
        ("seq", N_("Seq"), 8),
        ("at", N_("Time"), 20),
        ("actor", N_("Actor"), 14),
        ("action", N_("Action"), 17),
        ("target", N_("Target"), 0),
        ("case", N_("Case"), 10),
        ("reason", N_("Reason"), 22),
    )
    OPTIONAL_COLUMNS = ("reason", "case", "actor")
    EMPTY_TEXT = N_("no records")

    def __init__(self, fetch: Fetch, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._fetch = fetch
        self.filters = AuditFilters()

    def load(self, filters: AuditFilters) -> None:
        self.filters = filters
        self.start()

    def record(self, key: str) -> AuditRecord | None:
        return next((item for item in self.items if str(item.seq) == key), None)

    async def fetch_page(self, cursor: str | None, limit: int) -> Page[AuditRecord]:
        return await self._fetch(self.filters, cursor, limit)

    def row_key(self, item: AuditRecord) -> str:
        return str(item.seq)

    def cells_of(self, item: AuditRecord, now: datetime | None) -> list[Text]:
        return [
            Text(str(item.seq), style="bold", end=""),
            Text(local_time(item.at), end=""),
            line(item.actor),
            Text(labels.audit_action(item.action), style=ACTION_STYLES.get(item.action, ""), end=""),
            line(item.target),
            line(item.case or "—", "" if item.case else "dim"),
            Text(labels.reveal_reason(item.reason), style="" if item.reason else "dim", end=""),
        ]
