"""Text that came from outside, made safe for a terminal.

Rich and Textual strip only a handful of control codes; ESC sequences, OSC 52 and
C1 controls such as ``\\x9b`` would reach the terminal verbatim (terminal injection over
SSH). Every string from the desk or a provider goes through :func:`clean` first.
"""

from __future__ import annotations

import re

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\n\t]+")
REPLACEMENT = "\ufffd"


def clean(text: str) -> str:
    """Replace C0 controls (except newline and tab), DEL and C1 controls."""
    return _CONTROLS.sub(REPLACEMENT, text)


def clean_line(text: str) -> str:
    """:func:`clean`, then fold newlines and tabs to spaces, for one-line cells."""
    return _LINE_BREAKS.sub(" ", clean(text))
