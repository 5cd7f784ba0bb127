"""A real desk in-process for the console: the server app over ``httpx.ASGITransport``.

The demo data set is seeded once per session (deterministic: fixed seed and ``NOW``)
and copied for every test, so tests can write freely.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from linkdesk.client import DeskClient
from linkdesk.config import DeskSettings, Settings, UISettings
from linkdesk.i18n import set_language
from linkdesk.tui.app import LinkDeskApp

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MASTER_KEY = "bGlua2Rlc2stdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE="  # 32 bytes, base64


def fixed_clock() -> datetime:
    return NOW


def _seed(path: Path, cases: int, borrowers: int) -> None:
    from linkdesk.server.crypto import KeyRing
    from linkdesk.server.db import make_engine, migrate
    from linkdesk.server.demo import seed_demo

    url = f"sqlite:///{path}"
    migrate(url)
    engine = make_engine(url)
    try:
        seed_demo(engine, KeyRing.load(master_key=MASTER_KEY), cases=cases, borrowers=borrowers, now=NOW)
    finally:
        engine.dispose()


@dataclass
class Desk:
    """One desk for one test: make as many clients of it as needed."""

    path: Path
    app: Any = None
    clients: list[DeskClient] = field(default_factory=list)

    def __post_init__(self) -> None:
        from linkdesk.server.app import create_app
        from linkdesk.server.settings import ServerSettings

        settings = ServerSettings(database_url=f"sqlite:///{self.path}", master_key=MASTER_KEY)
        self.app = create_app(settings, clock=fixed_clock)

    def reopen(
        self, *, clock: Callable[[], datetime] = fixed_clock, intel_provider: Any = None, **settings: Any
    ) -> None:
        """Serve the same database with another clock, intel provider (the sandbox on
        ``clock`` by default) or settings; clients made afterwards use it."""
        from linkdesk.intel.sandbox import SandboxProvider
        from linkdesk.server.app import create_app
        from linkdesk.server.db import make_session_factory

        state = self.app.state
        if intel_provider is None:
            intel_provider = SandboxProvider(make_session_factory(state.engine), state.keyring, clock=clock)
        self.app = create_app(
            state.settings.model_copy(update=settings), engine=state.engine, keyring=state.keyring,
            clock=clock, intel_provider=intel_provider,
        )

    def client(self, token: str | None = None) -> DeskClient:
        client = DeskClient("http://desk", token=token, transport=httpx.ASGITransport(app=self.app))
        self.clients.append(client)
        return client

    def connect(self, _desk: DeskSettings) -> DeskClient:
        return self.client()

    def token_for(self, name: str, role: str) -> str:
        """A bearer token of a (new) agent ``name`` with ``role``."""
        from linkdesk.server.agents import issue_token

        with self.session() as session:
            return issue_token(session, name, name.replace(".", " ").title(), role)

    def connect_as(self, token: str) -> Callable[[DeskSettings], DeskClient]:
        """A ``connect`` for the console that signs in with ``token`` (a team desk)."""
        return lambda _desk: self.client(token)

    def session(self) -> Any:
        return self.app.state.session_factory()


@pytest.fixture(scope="session")
def desk_templates(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    made: dict[int, Path] = {}

    def template(cases: int) -> Path:
        if cases not in made:
            path = tmp_path_factory.mktemp(f"desk{cases}") / "desk.db"
            _seed(path, cases, borrowers=max(60, cases // 3))
            made[cases] = path
        return made[cases]

    return template


def _desk(templates: Callable[[int], Path], tmp_path: Path, cases: int) -> Iterator[Desk]:
    path = tmp_path / f"desk-{cases}.db"
    shutil.copyfile(templates(cases), path)
    desk = Desk(path)
    yield desk
    desk.app.state.engine.dispose()


@pytest.fixture
def desk(desk_templates: Callable[[int], Path], tmp_path: Path) -> Iterator[Desk]:
    yield from _desk(desk_templates, tmp_path, 120)


@pytest.fixture
def big_desk(desk_templates: Callable[[int], Path], tmp_path: Path) -> Iterator[Desk]:
    yield from _desk(desk_templates, tmp_path, 1100)


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    config = tmp_path / "config"
    monkeypatch.setenv("LINKDESK_CONFIG_DIR", str(config))
    for name in ("LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    yield config
    set_language("en")


class RecordingApp(LinkDeskApp):
    """The console, recording its notifications and saved settings for assertions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.saved: list[Settings] = []
        kwargs.setdefault("save_settings", self.saved.append)
        super().__init__(*args, **kwargs)
        self.notes: list[tuple[str, str]] = []

    def notify(self, message: str, *, severity: str = "information", **kwargs: Any) -> None:  # type: ignore[override]
        self.notes.append((severity, message))
        super().notify(message, severity=severity, **kwargs)  # type: ignore[arg-type]


def make_settings(**ui: str) -> Settings:
    return Settings(ui=UISettings(language=ui.get("language", "en"), theme=ui.get("theme", "linkdesk-dark")))


@pytest.fixture
def make_app(desk: Desk) -> Callable[..., RecordingApp]:
    def build(settings: Settings | None = None, connect: Any = None, **kwargs: Any) -> RecordingApp:
        return RecordingApp(
            settings or make_settings(),
            connect or desk.connect,
            desk_label="test desk",
            clock=fixed_clock,
            **kwargs,
        )

    return build


async def wait_for(pilot: Pilot[Any], condition: Callable[[], Any], timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (bounded; fails with a clear message)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {condition}")
        await pilot.pause(0.01)


async def settled(pilot: Pilot[Any]) -> None:
    """Wait for every worker and for the messages they posted. A worker that an
    exclusive successor cancelled counts as done (the views refresh on a timer)."""
    from textual.worker import WorkerCancelled

    for _attempt in range(50):
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            continue
    await pilot.pause()
