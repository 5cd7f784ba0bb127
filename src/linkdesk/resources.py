"""Where the packaged stylesheets and themes are.

They live at the top of the repository (``screens/*.tcss``, ``themes/*.toml``) and the
wheel carries them as ``linkdesk/_screens`` and ``linkdesk/_themes``; an editable
install reads them from the checkout.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def _directory(packaged: str, top_level: str) -> Path:
    installed = _PACKAGE / packaged
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent.parent / top_level
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"LinkDesk's {top_level}/ directory is missing from this install")


def screens_dir() -> Path:
    return _directory("_screens", "screens")


def themes_dir() -> Path:
    return _directory("_themes", "themes")


def stylesheet(name: str) -> Path:
    """The stylesheet of one screen: ``stylesheet("inbox")`` → ``.../inbox.tcss``."""
    return screens_dir() / f"{name}.tcss"


def locales_dir() -> Path:
    return _PACKAGE / "locales"
