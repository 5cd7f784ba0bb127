"""The console in a real terminal (tmux): what a user sees when they press the keys."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import uuid

import pytest

from .conftest import wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.name = f"ld-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith(("LINKDESK_", "TERM", "LANG", "TZ")))
        # COLUMNS and LINES from the test runner would fix the size Rich believes in
        shell = f"env -u COLUMNS -u LINES {exports} {shlex.join(command)}; echo EXITED=$?; sleep 60"
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "120", "-y", "36", shell], check=True)

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        ).stdout

    def press(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)

    def type_into_new_screen(self, text: str, shows: str) -> None:
        """Type into a screen that has just opened. Textual moves focus a moment after a
        screen appears, and keys sent before that are dropped; a person would look for
        the cursor first, so retype until the text shows."""
        for attempt in range(5):
            if attempt:
                self.press("C-u")  # what part of the last try arrived: typed twice, it would wrap
            self.type(text)
            try:
                # long enough for a loaded machine to draw it: typing it twice would
                # put the text in the field twice
                wait_for(lambda: shows in self.screen(), 10, what=shows)
                return
            except AssertionError:
                continue
        raise AssertionError(f"{shows!r} never appeared:\n{self.screen()}")

    def wait_for(self, text: str, timeout: float = 30) -> str:
        wait_for(lambda: text in self.screen(), timeout, what=f"{text!r} on screen:\n{self.screen()}")
        return self.screen()

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def terminal(linkdesk_cmd, run_env):
    terminals: list[Terminal] = []

    def open_terminal(*args: str) -> Terminal:
        term = Terminal(linkdesk_cmd + list(args), run_env)
        terminals.append(term)
        return term

    yield open_terminal
    for term in terminals:
        term.close()
    subprocess.run(linkdesk_cmd + ["--demo", "desk", "stop"], env=run_env, capture_output=True)


def test_demo_walk_inbox_case_comment_back_and_quit(terminal):
    term = terminal("demo")
    screen = term.wait_for("LD-0", timeout=120)  # the first start creates and seeds the desk
    assert "****" in screen  # masked numbers
    term.wait_for("All open")  # the views beside the table arrive on their own

    term.press("j")
    term.press("enter")
    screen = term.wait_for("Phone bindings")  # the case screen's borrower panel
    ref = re.findall(r"LD-\d{6}", screen)[0]
    assert "Case " + ref in screen

    term.press("c")
    term.wait_for("ctrl+s")
    term.type_into_new_screen("e2e 已联系借款人 [b]not bold[/b]", shows="not bold")
    term.press("C-s")
    screen = term.wait_for("e2e 已联系借款人")
    assert "[b]not bold[/b]" in screen  # desk text is never parsed as markup

    term.press("escape")
    screen = term.wait_for("All open")
    term.press("?")
    term.wait_for("Keys — ")
    term.press("escape")
    wait_for(lambda: "Keys — " not in term.screen(), 10, what="the help to close")

    term.press(":")
    term.wait_for("inbox · settings")  # the go-to prompt's placeholder
    term.type_into_new_screen(f"case {ref}", shows=f"case {ref}")
    term.press("enter")
    screen = term.wait_for("e2e 已联系借款人")
    assert ref in screen

    term.press("escape")
    term.wait_for("All open")
    term.press("q")
    term.wait_for("EXITED=0")


def test_filter_shows_what_the_desk_finds_for_a_chinese_word(terminal, linkdesk_cmd, run_env):
    term = terminal("demo")
    term.wait_for("LD-0", timeout=120)
    term.press("/")
    term.wait_for("tab completes")  # the filter's placeholder
    term.type_into_new_screen("二次号", shows="二次号  ")
    term.press("enter")
    expected = json.loads(
        subprocess.run(
            linkdesk_cmd + ["--demo", "cases", "list", "--json", "-q", "二次号", "--limit", "10"],
            env=run_env, capture_output=True, text=True, check=True,
        ).stdout
    )
    want = [case["ref"] for case in expected]

    def shown() -> list[str]:
        return re.findall(r"LD-\d{6}", term.screen())[:10]

    wait_for(lambda: shown() == want, 15, what=f"the rows {want}")
    term.press("q")
    term.wait_for("EXITED=0")


def test_unreachable_server_shows_status_and_no_traceback(terminal):
    term = terminal("--server", "http://127.0.0.1:9")
    screen = term.wait_for("unreachable")
    assert "Traceback" not in screen
    term.press("q")
    term.wait_for("EXITED=0")
