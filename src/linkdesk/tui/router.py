"""The router: the one place that knows the screens and moves between them.

Screens never import each other; they call ``self.app.router.go("case/LD-000123")``.
A route is a name plus parameters; its string form is ``inbox``, ``settings`` or
``case/LD-000123`` (``case LD-000123`` and a bare ``LD-000123`` work as well).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.screen import Screen

from linkdesk.domain.refs import InvalidRef, case_ref, parse_case_ref
from linkdesk.i18n import _

if TYPE_CHECKING:
    from textual.app import App


@dataclass(frozen=True)
class Route:
    name: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        return "/".join([self.name, *(value for _key, value in self.params)])

    def get(self, key: str) -> str:
        return dict(self.params)[key]


class UnknownRoute(ValueError):
    """The text names no route (or a route with a bad parameter)."""


ScreenFactory = Callable[[Route], Screen]


@dataclass
class _Entry:
    factory: ScreenFactory
    param: str | None = None
    title: str = ""
    permission: str | None = None
    """A route only some roles may use (``audit.read``): the others are not taken there."""


@dataclass
class Router:
    app: App
    routes: dict[str, _Entry] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    """Every route path visited, oldest first."""

    def register(
        self,
        name: str,
        factory: ScreenFactory,
        *,
        param: str | None = None,
        title: str = "",
        permission: str | None = None,
    ) -> None:
        self.routes[name] = _Entry(factory, param, title or name, permission)

    def allowed(self, name: str) -> bool:
        """Whether the agent's role may use route ``name`` (the desk would refuse it)."""
        entry = self.routes.get(name)
        if entry is None or entry.permission is None:
            return True
        may = getattr(self.app, "may", None)
        return may is None or bool(may(entry.permission))

    # -- parsing -----------------------------------------------------------------------

    def parse(self, text: str, **params: str) -> Route:
        raw = text.strip().lstrip(":").strip()
        if not raw:
            raise UnknownRoute(_("Type a route: inbox, settings or case LD-000123"))
        head, _sep, tail = raw.replace("/", " ", 1).partition(" ")
        name = head.lower()
        argument = tail.strip() or None
        if name not in self.routes:
            try:  # a bare case ref: "LD-000123" or "123"
                ref = case_ref(parse_case_ref(head))
            except InvalidRef:
                raise UnknownRoute(_("Unknown route: {route}", route=raw)) from None
            if argument is None and "case" in self.routes:
                return Route("case", (("ref", ref),))
            raise UnknownRoute(_("Unknown route: {route}", route=raw))
        entry = self.routes[name]
        if entry.param is None:
            if argument or params:
                raise UnknownRoute(_("{route} takes no argument", route=name))
            return Route(name)
        value = params.get(entry.param, argument)
        if not value:
            raise UnknownRoute(_("{route} needs a case id, e.g. {example}", route=name, example=f"{name} LD-000123"))
        if entry.param == "ref":
            try:
                value = case_ref(parse_case_ref(value))
            except InvalidRef:
                raise UnknownRoute(_("Not a case id: {value}", value=value)) from None
        return Route(name, ((entry.param, value),))

    # -- moving ------------------------------------------------------------------------

    @property
    def stack(self) -> list[Route]:
        """The routes of the screens on the stack, bottom first."""
        return [screen.route for screen in self.app.screen_stack if isinstance(getattr(screen, "route", None), Route)]

    @property
    def current(self) -> Route | None:
        stack = self.stack
        return stack[-1] if stack else None

    def _resolve(self, target: str | Route, params: dict[str, str]) -> Route | None:
        if isinstance(target, Route):
            route = target
        else:
            try:
                route = self.parse(target, **params)
            except UnknownRoute as exc:
                self.app.notify(str(exc), severity="warning", markup=False)
                return None
        if not self.allowed(route.name):
            self.app.notify(
                _("Your role may not open {route}", route=route.name), severity="warning", markup=False
            )
            return None
        return route

    def build(self, route: Route) -> Screen:
        screen = self.routes[route.name].factory(route)
        screen.route = route  # type: ignore[attr-defined]
        return screen

    def go(self, target: str | Route, **params: str) -> bool:
        """Show ``target``: back down to it when it is on the stack, else push it."""
        route = self._resolve(target, params)
        if route is None:
            return False
        self.history.append(route.path)
        stack = self.stack
        if stack and stack[-1] == route:
            return True
        if route in stack:
            while self.current != route:
                self.app.pop_screen()
            return True
        if stack and stack[-1].name == route.name and route.name != "inbox":
            self.app.switch_screen(self.build(route))
        else:
            self.app.push_screen(self.build(route))
        return True

    def replace(self, target: str | Route, **params: str) -> bool:
        """Show ``target`` in place of the current screen."""
        route = self._resolve(target, params)
        if route is None:
            return False
        self.history.append(route.path)
        if len(self.stack) > 1:
            self.app.switch_screen(self.build(route))
        else:
            self.app.push_screen(self.build(route))
        return True

    def back(self) -> bool:
        """Leave the current screen for the one under it (the first screen stays)."""
        if len(self.stack) <= 1 or not isinstance(getattr(self.app.screen, "route", None), Route):
            return False
        self.app.pop_screen()
        current = self.current
        if current is not None:
            self.history.append(current.path)
        return True

    def retranslate(self) -> None:
        """Re-render every routed screen in the current language."""
        for screen in self.app.screen_stack:
            retranslate = getattr(screen, "retranslate", None)
            if retranslate is not None:
                retranslate()
