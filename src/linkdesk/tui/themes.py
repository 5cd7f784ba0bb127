"""Theme files: one TOML palette per theme, packaged in ``themes/`` or added by users.

A theme file holds ``name``, ``dark`` and the colours of :class:`textual.theme.Theme`.
A broken user file is skipped (and reported) rather than stopping the console.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

COLOUR_FIELDS = (
    "primary",
    "secondary",
    "accent",
    "background",
    "surface",
    "panel",
    "warning",
    "error",
    "success",
    "foreground",
    "boost",
)


class InvalidTheme(ValueError):
    pass


def theme_from_toml(path: Path) -> Theme:
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidTheme(f"{path.name}: {exc}") from exc
    name = data.get("name") or path.stem
    if not isinstance(name, str) or not isinstance(data.get("primary"), str):
        raise InvalidTheme(f"{path.name}: a theme needs a name and a primary colour")
    colours = {key: str(data[key]) for key in COLOUR_FIELDS if key in data}
    variables = data.get("variables", {})
    try:
        for value in colours.values():
            Color.parse(value)
    except ColorParseError as exc:
        raise InvalidTheme(f"{path.name}: {exc}") from exc
    try:
        return Theme(
            name=name,
            dark=bool(data.get("dark", True)),
            variables={str(k): str(v) for k, v in variables.items()},
            **colours,
        )
    except Exception as exc:  # a bad colour string
        raise InvalidTheme(f"{path.name}: {exc}") from exc


@dataclass
class ThemeScan:
    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load_themes(directories: Iterable[Path]) -> ThemeScan:
    """Every ``*.toml`` theme of ``directories``, later directories overriding earlier."""
    scan = ThemeScan()
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                scan.themes.append(theme_from_toml(path))
            except InvalidTheme as exc:
                scan.problems.append(str(exc))
    return scan
