"""Settings (route ``settings``): desk, agent, theme and language, saved as TOML.

Theme and language apply (and are saved) as soon as they are chosen; the desk and
the agent name are saved with ``ctrl+s`` / Save, after validation, and the app then
reconnects without a restart. Administrators (``desk.settings``) also see the desk's
policy — reveal limit and display time — saved to the desk with its own button.
"""

from __future__ import annotations

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Select, Static

from linkdesk.client import ProblemError
from linkdesk.config import DeskMode, DeskSettings, Settings
from linkdesk.domain.desk_policy import DeskPolicy, DeskPolicyPatch
from linkdesk.domain.permissions import Permission
from linkdesk.domain.text import clean_line
from linkdesk.i18n import LANGUAGES, _
from linkdesk.resources import stylesheet
from linkdesk.tui.screens.base import DeskScreen
from linkdesk.tui.widgets.key_bar import KeyBar
from linkdesk.tui.widgets.status_line import StatusLine
from linkdesk.tui.widgets.title_bar import TitleBar
from linkdesk.tui.workers import desk_work


class SettingsScreen(DeskScreen):
    CSS_PATH = stylesheet("settings")

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="settings.save", priority=True),
        Binding("escape", "back", "Back", id="settings.back"),
    ]

    def title_text(self) -> str:
        return _("Settings")

    @property
    def settings(self) -> Settings:
        return self.app.settings  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        settings = self.settings
        yield TitleBar(self.title_text())
        with VerticalScroll(id="settings-form"):
            yield Static(Content(_("Desk")), classes="section-title")
            yield Static(Content(_("Where the cases live")), classes="field-label")
            yield Select(
                [
                    (Text(_("Embedded (local desk on this machine)")), DeskMode.EMBEDDED.value),
                    (Text(_("Server (a team desk at a URL)")), DeskMode.SERVER.value),
                ],
                value=settings.desk.mode.value,
                allow_blank=False,
                id="desk-mode",
            )
            yield Static(Content(_("Server URL")), classes="field-label")
            yield Input(value=settings.desk.url, placeholder="https://desk.example.com", id="desk-url")
            yield Static(Content(""), id="desk-url-error", classes="field-error")
            yield Static(Content(_("Token")), classes="field-label")
            yield Input(value=settings.desk.token, password=True, id="desk-token")
            with Horizontal(classes="row"):
                yield Button(Content(_("Test connection")), id="test-connection")
                yield Static(Content(""), id="test-result")
            yield Static(Content(_("Agent")), classes="section-title")
            yield Static(Content(_("Your name on this desk (empty: as the desk knows you)")), classes="field-label")
            yield Input(value=settings.agent.name, max_length=60, id="agent-name")
            yield Static(Content(_("Appearance")), classes="section-title")
            yield Static(Content(_("Theme")), classes="field-label")
            yield Select(
                [(Text(name), name) for name in sorted(self.app.available_themes)],
                value=self.app.theme,
                allow_blank=False,
                id="theme",
            )
            yield Static(Content(_("Language")), classes="field-label")
            yield Select(
                [(Text(title), code) for code, title in LANGUAGES.items()],
                value=settings.ui.language,
                allow_blank=False,
                id="language",
            )
            with Horizontal(classes="row buttons"):
                yield Button(Content(_("Save")), variant="primary", id="save")
                yield Static(Content(""), id="save-result")
            if self.app.may(Permission.DESK_SETTINGS):  # type: ignore[attr-defined]
                yield from self.compose_policy(self.app.policy)  # type: ignore[attr-defined]
        yield StatusLine()
        yield KeyBar()

    def compose_policy(self, policy: DeskPolicy | None) -> ComposeResult:
        yield Static(Content(_("Desk policy (administrators)")), classes="section-title")
        yield Static(Content(_("Reveals one agent may make per hour (1–1000)")), classes="field-label")
        yield Input(
            value=str(policy.reveal_limit_per_hour) if policy else "", type="integer", id="policy-limit"
        )
        yield Static(Content(_("Seconds a revealed value stays on screen (5–300)")), classes="field-label")
        yield Input(
            value=str(policy.reveal_display_seconds) if policy else "", type="integer", id="policy-seconds"
        )
        with Horizontal(classes="row"):
            yield Button(Content(_("Save desk policy")), id="save-policy")
            yield Static(Content(""), id="policy-result")

    def on_mount(self) -> None:
        self.set_position(_("ctrl+s saves the desk and agent; theme and language apply at once"))
        self.query_one("#desk-mode", Select).focus()

    def permissions_changed(self) -> None:
        self.refresh(recompose=True)

    # -- the desk's policy (administrators) -------------------------------------------

    @on(Button.Pressed, "#save-policy")
    @on(Input.Submitted, "#policy-limit, #policy-seconds")
    def _save_policy(self) -> None:
        result = self.query_one("#policy-result", Static)
        try:
            patch = DeskPolicyPatch(
                reveal_limit_per_hour=int(self.query_one("#policy-limit", Input).value),
                reveal_display_seconds=int(self.query_one("#policy-seconds", Input).value),
            )
        except (ValueError, ValidationError):
            result.update(Content(_("Not saved: a limit of 1–1000 and 5–300 seconds")))
            result.set_class(True, "-error")
            return
        self.save_policy(patch)

    @desk_work(group="settings-policy")
    async def save_policy(self, patch: DeskPolicyPatch) -> None:
        result = self.query_one("#policy-result", Static)
        try:
            policy = await self.client.change_desk_policy(patch)
        except ProblemError as exc:
            result.update(Content(_("Not saved: {reason}", reason=clean_line(exc.problem.detail or exc.problem.title))))
            result.set_class(True, "-error")
            return
        self.app.policy = policy  # type: ignore[attr-defined]
        result.update(
            Content(
                _(
                    "Saved: {limit} reveals an hour, shown {seconds} s",
                    limit=policy.reveal_limit_per_hour,
                    seconds=policy.reveal_display_seconds,
                )
            )
        )
        result.set_class(False, "-error")

    def action_back(self) -> None:
        self.router.back()

    # -- appearance: applied at once ---------------------------------------------------

    @on(Select.Changed, "#theme")
    def _theme_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.app.theme:
            self.app.apply_theme(event.value)  # type: ignore[attr-defined]

    @on(Select.Changed, "#language")
    def _language_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.settings.ui.language:
            self.app.apply_language(event.value)  # type: ignore[attr-defined]

    # -- desk and agent: validated, then saved -----------------------------------------

    def desk_from_form(self) -> DeskSettings | None:
        error = self.query_one("#desk-url-error", Static)
        error.update(Content(""))
        mode = self.query_one("#desk-mode", Select).value
        url = self.query_one("#desk-url", Input).value
        token = self.query_one("#desk-token", Input).value
        try:
            desk = DeskSettings(mode=DeskMode(str(mode)), url=url, token=token)
        except ValidationError as exc:
            message = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            error.update(Content(_("Invalid URL: {reason}", reason=clean_line(message))))
            return None
        if desk.mode is DeskMode.SERVER and not desk.url:
            error.update(Content(_("A server desk needs a URL (http:// or https://)")))
            return None
        return desk

    def action_save(self) -> None:
        desk = self.desk_from_form()
        result = self.query_one("#save-result", Static)
        if desk is None:
            result.update(Content(_("Nothing saved: fix the fields marked above")))
            return
        agent = self.query_one("#agent-name", Input).value.strip()
        self.app.apply_desk_and_agent(desk, agent)  # type: ignore[attr-defined]
        result.update(Content(_("Saved")))

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#test-connection")
    def _test_pressed(self) -> None:
        desk = self.desk_from_form()
        if desk is not None:
            self.query_one("#test-result", Static).update(Content(_("Testing…")))
            self.test_connection(desk)

    @desk_work(group="settings-test")
    async def test_connection(self, desk: DeskSettings) -> None:
        result = self.query_one("#test-result", Static)
        try:
            client = self.app.connect(desk)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - a bad desk setting is a message here
            result.update(Content(_("Failed: {reason}", reason=clean_line(str(exc)))))
            return
        try:
            health = await client.health()
        except Exception as exc:  # noqa: BLE001
            result.update(Content(_("Failed: {reason}", reason=clean_line(str(exc)))))
            result.set_class(True, "-error")
            return
        finally:
            await client.aclose()
        version = clean_line(str(health.get("version", "?")))
        database = clean_line(str(health.get("database", "?")))
        result.update(Content(_("OK: desk {version} on {database}", version=version, database=database)))
        result.set_class(False, "-error")

    def retranslate(self) -> None:
        self.refresh(recompose=True)
        self.call_after_refresh(lambda: self.query_one("#language", Select).focus())
