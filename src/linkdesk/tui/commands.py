"""Command palette providers: every route and every action, with translated titles.

Only what the agent's role may do is offered: a route the router would refuse or an
action the screen disables (``check_action``) is not listed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from linkdesk.i18n import _


class LinkDeskCommands(Provider):
    """Go to a route, or run an action of the app or of the current screen."""

    def commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        router = app.router  # type: ignore[attr-defined]
        screen = self.screen
        entries: list[tuple[str, str, Callable[[], object]]] = [
            (_("Go to inbox"), _("The list of cases"), partial(router.go, "inbox")),
            (_("Go to settings"), _("Desk, agent, theme and language"), partial(router.go, "settings")),
        ]
        if router.allowed("audit"):
            entries.append(
                (_("Go to audit"), _("Who revealed what, and whether the chain is intact"), partial(router.go, "audit"))
            )
        if router.allowed("outbox"):
            entries.append(
                (_("Go to SMS outbox"), _("The sandbox's sent messages: one-time codes"), partial(router.go, "outbox"))
            )
        entries += [
            (_("Open a case…"), _("Type a case id, e.g. LD-000123"), app.action_goto),  # type: ignore[attr-defined]
            (_("Show keys"), _("The keys of the current screen"), app.action_help),  # type: ignore[attr-defined]
            (_("Quit"), _("Leave LinkDesk"), app.action_quit),
        ]
        screen_actions = {
            "refresh": (_("Refresh the inbox"), _("Fetch the cases and counts again")),
            "new_case": (_("New case"), _("Open the new-case form")),
            "filter": (_("Filter cases"), _("Search subject, body, id and last 4 digits")),
            "comment": (_("Add a public comment"), _("Visible to the borrower")),
            "note": (_("Add an internal note"), _("Visible to agents only")),
            "status": (_("Change status"), _("Move the case along its workflow")),
            "priority": (_("Change priority"), _("urgent, high, normal, low")),
            "assign": (_("Assign the case"), _("Pick an agent or unassign")),
            "recheck": (_("Re-check phone intel"), _("Ask the providers about the case's numbers now")),
            "reveal": (_("Reveal a number, name or ID…"), _("With a reason; recorded in the audit chain")),
            "rebind": (_("Rebind the borrower's number…"), _("Phone change or lost SIM: verify, then move the binding")),
            "verify": (_("Verify the audit chain"), _("Check every record's hash and the checkpoints")),
        }
        for action, (title, help_text) in screen_actions.items():
            method = getattr(screen, f"action_{action}", None)
            if method is not None and screen.check_action(action, ()):
                entries.append((title, help_text, method))
        return entries

    async def discover(self) -> Hits:
        for title, help_text, callback in self.commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
