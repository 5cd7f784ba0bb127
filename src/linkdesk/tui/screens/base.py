"""What every routed screen shares: title bar, status line, key bar, retranslation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.message import Message
from textual.screen import Screen

from linkdesk.tui.widgets.key_bar import KeyBar
from linkdesk.tui.widgets.status_line import StatusLine
from linkdesk.tui.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from linkdesk.client import DeskClient
    from linkdesk.tui.router import Route


class DeskReconnected(Message):
    """The desk is reachable again (or another desk was chosen): reload what is shown."""


class DeskScreen(Screen[None]):
    route: Route

    ACTION_PERMISSIONS: ClassVar[dict[str, tuple[str, ...]]] = {}
    """Actions only some roles may take: action name → permissions, any one of which
    suffices. The others see no key and no command for it (the desk would refuse)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needed = self.ACTION_PERMISSIONS.get(action)
        if not needed:
            return True
        may = getattr(self.app, "may", None)
        return may is None or any(may(permission) for permission in needed)

    def load(self) -> Any:
        """Fetch what the screen shows from the desk; screens that show desk data override
        it (usually as a desk worker)."""

    def on_desk_reconnected(self, _message: DeskReconnected) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.router.back()

    def permissions_changed(self) -> None:
        """The agent's permissions became known (or changed with the desk)."""

    @property
    def client(self) -> DeskClient:
        return self.app.client  # type: ignore[attr-defined]

    @property
    def router(self) -> Any:
        return self.app.router  # type: ignore[attr-defined]

    def title_text(self) -> str:
        return ""

    def set_position(self, text: str) -> None:
        for status in self.query(StatusLine):
            status.position = text

    def retranslate(self) -> None:
        """Called after a language switch; screens re-render their own texts too."""
        for bar in self.query(TitleBar):
            bar.location = self.title_text()
        for status in self.query(StatusLine):
            status.refresh()
        for keys in self.query(KeyBar):
            keys.refresh(recompose=True)
