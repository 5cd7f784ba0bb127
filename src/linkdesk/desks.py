"""Which desk a command talks to, and how to build the client for it.

A desk is either embedded (a folder under the data directory: ``default`` for the
user's own, ``demo`` for the seeded demo desk, served by the local desk service) or
a server (URL + token). This module wires the client layer to that choice; nothing
in it imports the server stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from linkdesk.client.desk import DeskClient
from linkdesk.client.local import LOCAL_BASE_URL, LocalDesk, LocalDeskTransport
from linkdesk.config import DeskMode, DeskSettings, desk_dir

DEFAULT_DESK = "default"
DEMO_DESK = "demo"


@dataclass(frozen=True)
class DeskChoice:
    """The embedded desk a session uses when its settings name no server."""

    name: str = DEFAULT_DESK
    data_dir: Path | None = None

    @property
    def demo(self) -> bool:
        return self.name == DEMO_DESK

    def path(self) -> Path:
        return desk_dir(self.name, self.data_dir)

    def local(self) -> LocalDesk:
        return LocalDesk(self.path(), demo=self.demo)


def label(choice: DeskChoice, desk: DeskSettings) -> str:
    if desk.mode is DeskMode.SERVER and desk.url:
        return desk.url
    return "demo desk" if choice.demo else "local desk"


def connector(choice: DeskChoice) -> Callable[[DeskSettings], DeskClient]:
    """A function from desk settings to a client: a server if they name one, else embedded."""

    def connect(desk: DeskSettings) -> DeskClient:
        if desk.mode is DeskMode.SERVER and desk.url:
            return DeskClient(desk.url, token=desk.token or None)
        return DeskClient(LOCAL_BASE_URL, transport=LocalDeskTransport(choice.local()))

    return connect
