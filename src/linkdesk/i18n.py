"""The one translation layer of the UI.

Message ids are the English texts themselves (gettext style), so English needs no
catalog and a missing translation shows English rather than a key. Catalogs are TOML
files in ``linkdesk/locales`` mapping an English text to its translation; texts with
``{name}`` placeholders are formatted after translation.
"""

from __future__ import annotations

import os
import tomllib
from linkdesk.resources import locales_dir

LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
DEFAULT_LANGUAGE = "en"

_catalog: dict[str, str] = {}
_language = DEFAULT_LANGUAGE


def load_catalog(language: str) -> dict[str, str]:
    if language == DEFAULT_LANGUAGE:
        return {}
    path = locales_dir() / f"{language}.toml"
    with path.open("rb") as file:
        return {str(key): str(value) for key, value in tomllib.load(file).items()}


def set_language(language: str) -> None:
    """Switch every later call of :func:`_` to ``language`` (``en`` or ``zh_CN``)."""
    global _catalog, _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}")
    _catalog = load_catalog(language)
    _language = language


def current_language() -> str:
    return _language


def _(text: str, /, **values: object) -> str:
    """Translate ``text`` into the current language and fill in ``{placeholders}``."""
    translated = _catalog.get(text, text)
    return translated.format(**values) if values else translated


def language_from_locale(environ: dict[str, str] | None = None) -> str:
    """``zh_CN`` when the POSIX locale asks for Chinese, else English."""
    env = os.environ if environ is None else environ
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(variable, "")
        if value:
            return "zh_CN" if value.lower().startswith("zh") else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE
