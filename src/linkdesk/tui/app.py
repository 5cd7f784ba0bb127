"""``LinkDeskApp``: holds the settings and the desk client, owns the router.

The CLI builds it with the settings, a ``connect`` function that makes a
:class:`~linkdesk.client.DeskClient` for desk settings (embedded or a server URL),
and a label for the desk. The app connects at start and again whenever the desk
settings change; no restart is ever needed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from linkdesk import __version__
from linkdesk.client import DeskClient, DeskError, DeskUnavailable, ProblemError
from linkdesk.config import DEFAULT_THEME, DeskSettings, SavedView, Settings, config_dir
from linkdesk.domain.cases import CaseSummary
from linkdesk.domain.desk_policy import DeskPolicy
from linkdesk.domain.paging import Page
from linkdesk.domain.permissions import Me, Permission
from linkdesk.domain.text import clean_line
from linkdesk.domain.views import CaseQuery, View
from linkdesk.i18n import _, set_language
from linkdesk.resources import stylesheet, themes_dir
from linkdesk.tui.commands import LinkDeskCommands
from linkdesk.tui.router import Route, Router
from linkdesk.tui.screens.base import DeskReconnected
from linkdesk.tui.screens.inbox import InboxScreen
from linkdesk.tui.themes import load_themes
from linkdesk.tui.widgets.case_table import CaseTable

MAX_RETRY_SECONDS = 30


def utcnow() -> datetime:
    return datetime.now(UTC)


def _case_screen(route: Route):  # type: ignore[no-untyped-def]
    # screens other than the inbox are imported on first use: not on the way to first paint
    from linkdesk.tui.screens.case import CaseScreen

    return CaseScreen(route.get("ref"))


def _playbook_screen(route: Route):  # type: ignore[no-untyped-def]
    from linkdesk.tui.screens.playbook import PlaybookScreen

    return PlaybookScreen(route.get("ref"))


def _rebind_screen(route: Route):  # type: ignore[no-untyped-def]
    from linkdesk.tui.screens.rebind import RebindScreen

    return RebindScreen(route.get("ref"))


def _contacts_screen(route: Route):  # type: ignore[no-untyped-def]
    from linkdesk.tui.screens.contact import ContactScreen

    return ContactScreen(route.get("ref"))


def _borrower_screen(route: Route):  # type: ignore[no-untyped-def]
    from linkdesk.tui.screens.borrower import BorrowerScreen

    return BorrowerScreen(route.get("borrower"))


def _outbox_screen(route: Route):  # type: ignore[no-untyped-def]
    from linkdesk.tui.screens.outbox import OutboxScreen

    return OutboxScreen()


def _settings_screen(route: Route):  # type: ignore[no-untyped-def]
    from linkdesk.tui.screens.settings import SettingsScreen

    return SettingsScreen()


def _audit_screen(route: Route):  # type: ignore[no-untyped-def]
    from linkdesk.tui.screens.audit import AuditScreen

    return AuditScreen()


def console_client_name(environ: dict[str, str] | None = None) -> str:
    """How this console names itself when it signs in (recorded in the audit chain)."""
    env = os.environ if environ is None else environ
    return f"console {__version__}" + (" over ssh" if env.get("SSH_CONNECTION") else "")


class LinkDeskApp(App[None]):
    TITLE = "LinkDesk"
    CSS_PATH = stylesheet("app")
    COMMANDS = App.COMMANDS | {LinkDeskCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("colon", "goto", "Go to", id="app.goto"),
        Binding("comma", "settings", "Settings", id="app.settings"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    desk_status: reactive[str] = reactive("connecting")
    """``connecting``, ``connected``, ``unreachable`` or ``error``."""
    retry_in: reactive[int] = reactive(0)
    agent_label: reactive[str] = reactive("")
    permissions: reactive[frozenset[Permission]] = reactive(frozenset(), init=False)
    """What the signed-in agent's role may do; empty until the desk has answered. Keys
    and commands for anything else are not offered (the desk would refuse them)."""

    def __init__(
        self,
        settings: Settings,
        connect: Callable[[DeskSettings], DeskClient],
        *,
        desk_label: str,
        clock: Callable[[], datetime] = utcnow,
        save_settings: Callable[[Settings], None] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.connect = connect
        self.desk_label = desk_label
        self.clock = clock
        self.save_settings = save_settings
        self.client: DeskClient = connect(settings.desk)
        self.signed_in: Me | None = None
        """Who the desk says we are, from signing in once to the opened desk."""
        self.policy: DeskPolicy | None = None
        """The desk's policy (reveal limits), read after signing in."""
        self.theme_problems = self._register_themes()
        set_language(settings.ui.language)
        self.agent_label = settings.agent.name
        self.router = Router(self)
        self.router.register("inbox", lambda route: InboxScreen(), title="Inbox")
        self.router.register("case", _case_screen, param="ref", title="Case")
        self.router.register("playbook", _playbook_screen, param="ref", title="Playbook")
        self.router.register("rebind", _rebind_screen, param="ref", title="Rebind", permission=Permission.REBIND_START)
        self.router.register("outbox", _outbox_screen, title="SMS outbox", permission=Permission.REBIND_START)
        self.router.register("contacts", _contacts_screen, param="ref", title="Contacts")
        self.router.register("borrower", _borrower_screen, param="borrower", title="Borrower")
        self.router.register("settings", _settings_screen, title="Settings")
        self.router.register("audit", _audit_screen, title="Audit", permission=Permission.AUDIT_READ)
        self._prefetched: dict[str, asyncio.Task] = {}
        if settings.keys:
            self.set_keymap(settings.keys)  # the user's keys, by binding id
        wanted = settings.ui.theme
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME

    def _register_themes(self) -> list[str]:
        scan = load_themes([themes_dir(), config_dir() / "themes"])
        for theme in scan.themes:
            self.register_theme(theme)
        return scan.problems

    def on_load(self) -> None:
        """Ask the desk for the first inbox page and the views before the first screen is
        even composed: the answers travel while Textual builds the screen."""
        self._prefetched = {
            "cases": asyncio.ensure_future(self.client.list_cases(CaseQuery(), limit=CaseTable.PAGE_SIZE)),
            "views": asyncio.ensure_future(self.client.views()),
        }

    async def take_first_page(self, query: CaseQuery, limit: int) -> Page[CaseSummary] | None:
        """The prefetched first page if it answers ``query``; each answer is used once."""
        task = self._prefetched.pop("cases", None)
        if task is None or query != CaseQuery() or limit != CaseTable.PAGE_SIZE:
            if task is not None:
                task.cancel()
            return None
        return await task

    async def take_views(self) -> list[View] | None:
        task = self._prefetched.pop("views", None)
        return None if task is None else await task

    def on_mount(self) -> None:
        for problem in self.theme_problems:
            self.notify(_("Theme skipped: {problem}", problem=clean_line(problem)), severity="warning", markup=False)
        self.router.go(Route("inbox"))
        self.watch_desk()

    async def on_unmount(self) -> None:
        for task in self._prefetched.values():
            task.cancel()
        await self.client.aclose()

    # -- the desk ----------------------------------------------------------------------

    @work(exclusive=True, group="desk-monitor", exit_on_error=False)
    async def watch_desk(self) -> None:
        """Sign in to the desk once; afterwards only check it. While it is unreachable,
        retry with a growing delay."""
        delay = 1
        while True:
            try:
                # both answer only when the desk and its database do
                if self.signed_in is None:
                    me = await self.client.sign_in(client=console_client_name())
                else:
                    me = await self.client.me()
            except DeskUnavailable:
                self.desk_status = "unreachable"
                for remaining in range(delay, 0, -1):
                    self.retry_in = remaining
                    await asyncio.sleep(1)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
                continue
            except DeskError as exc:
                self.desk_status = "error"
                self.report_error(exc)
                return
            was = self.desk_status
            self.signed_in = me
            self.permissions = frozenset(me.permissions)
            if self.policy is None:
                await self.load_policy()
            self.desk_status = "connected"
            self.agent_label = self.settings.agent.name or clean_line(me.display_name)
            if was in ("unreachable", "error"):
                for screen in self.screen_stack:
                    screen.post_message(DeskReconnected())
            return

    async def load_policy(self) -> None:
        try:
            self.policy = await self.client.desk_policy()
        except DeskError as exc:  # the console works without it (reveals carry their own time)
            self.log.warning("desk policy unavailable", error=repr(exc))

    def may(self, permission: Permission) -> bool:
        """Whether the signed-in agent's role holds ``permission`` (False until known)."""
        return permission in self.permissions

    def watch_permissions(self) -> None:
        for screen in self.screen_stack:
            screen.refresh_bindings()
            changed = getattr(screen, "permissions_changed", None)
            if changed is not None:
                changed()

    def desk_unreachable(self) -> None:
        running = any(
            worker.group == "desk-monitor" and worker.is_running for worker in self.workers
        )
        if not running:
            self.desk_status = "unreachable"
            self.watch_desk()

    def report_error(self, error: BaseException) -> None:
        """One notification (or the status line) for any failed desk call; never a traceback."""
        if isinstance(error, DeskUnavailable):
            self.desk_unreachable()
            return
        if isinstance(error, ProblemError):
            problem = error.problem
            message = clean_line(problem.title)
            if problem.detail:
                message += ": " + clean_line(problem.detail)
        elif isinstance(error, DeskError):
            message = clean_line(str(error))
        else:
            self.log.error("unexpected error in a worker", error=repr(error))
            message = _("Something went wrong: {error}", error=clean_line(repr(error)))
        self.notify(message, severity="error", timeout=8, markup=False)

    # -- settings ----------------------------------------------------------------------

    def _save(self) -> None:
        if self.save_settings is None:
            return
        try:
            self.save_settings(self.settings)
        except OSError as exc:
            self.notify(_("Settings not saved: {reason}", reason=clean_line(str(exc))), severity="error", markup=False)

    def apply_theme(self, name: str) -> None:
        self.theme = name
        self.settings = self.settings.model_copy(
            update={"ui": self.settings.ui.model_copy(update={"theme": name})}
        )
        self._save()

    def apply_views(self, views: list[SavedView]) -> None:
        """The inbox's saved views (issue 5, docs/filters.md), in order, saved at once."""
        self.settings = self.settings.model_copy(update={"views": list(views)})
        self._save()

    def apply_language(self, language: str) -> None:
        set_language(language)
        self.settings = self.settings.model_copy(
            update={"ui": self.settings.ui.model_copy(update={"language": language})}
        )
        self._save()
        self.router.retranslate()

    def apply_desk_and_agent(self, desk: DeskSettings, agent_name: str) -> None:
        desk_changed = desk != self.settings.desk
        self.settings = self.settings.model_copy(
            update={
                "desk": desk,
                "agent": self.settings.agent.model_copy(update={"name": agent_name}),
            }
        )
        self._save()
        if agent_name:
            self.agent_label = agent_name
        if desk_changed:
            self.reconnect(desk)

    def reconnect(self, desk: DeskSettings) -> None:
        """Use another desk from now on; the screens reload from it."""
        old = self.client
        self.client = self.connect(desk)
        self.signed_in = None  # another desk: sign in to it (once)
        self.policy = None
        self.permissions = frozenset()
        self.run_worker(old.aclose(), group="desk-close", exit_on_error=False)
        self.desk_status = "connecting"
        self.watch_desk()
        for screen in self.screen_stack:
            screen.post_message(DeskReconnected())

    # -- revealed values ---------------------------------------------------------------

    def value_on_screen(self) -> bool:
        """A revealed value is shown somewhere: no screenshot may hold it."""
        from linkdesk.tui.widgets.reveal_panel import RevealPanel

        return any(panel.showing for screen in self.screen_stack for panel in screen.query(RevealPanel))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot" and self.value_on_screen():
                continue
            yield command

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        if self.value_on_screen():
            self.notify(_("No screenshot while a revealed value is on screen"), severity="warning", markup=False)
            return None
        return super().deliver_screenshot(filename, path, time_format)

    # -- app-wide actions --------------------------------------------------------------

    def action_settings(self) -> None:
        self.router.go("settings")

    def action_goto(self) -> None:
        from linkdesk.tui.screens.dialogs import GotoPrompt

        self.push_screen(GotoPrompt(), lambda target: self.router.go(target) if target else None)

    def action_help(self) -> None:
        screen = self.screen
        keys: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            # LinkDesk's own bindings carry ids; Textual's widget internals (page left,
            # copy selection, …) would only bury them
            if not binding.description or not binding.id:
                continue
            entry = (self.get_key_display(binding), _(binding.description))
            if entry not in seen:
                seen.add(entry)
                keys.append(entry)
        keys.append(("^p", _("Command palette")))
        title = screen.title_text() if hasattr(screen, "title_text") else ""
        from linkdesk.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(title, keys))
