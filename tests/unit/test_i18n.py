"""Every UI text of src/linkdesk has a Simplified Chinese translation with the same placeholders."""

from __future__ import annotations

import ast
import string
import tomllib
from pathlib import Path

import pytest

import linkdesk
from linkdesk.i18n import _, current_language, load_catalog, set_language
from linkdesk.resources import locales_dir

SOURCE = Path(linkdesk.__file__).resolve().parent
MARKERS = {"_", "N_"}


def _binding_description(node: ast.Call) -> ast.expr | None:
    """The description of ``Binding(key, action, description, ...)``: the key bar translates it."""
    if not (isinstance(node.func, ast.Name) and node.func.id == "Binding"):
        return None
    for keyword in node.keywords:
        if keyword.arg == "description":
            return keyword.value
    return node.args[2] if len(node.args) > 2 else None


def msgids() -> dict[str, str]:
    """Every string literal passed to ``_()``/``N_()`` or used as a binding description."""
    found: dict[str, str] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in MARKERS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, f"{path.relative_to(SOURCE)}:{node.lineno}")
            if isinstance(node, ast.Call):
                description = _binding_description(node)
                if isinstance(description, ast.Constant) and description.value:
                    found.setdefault(description.value, f"{path.relative_to(SOURCE)}:{node.lineno}")
    return found


def placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_the_scan_finds_the_console_texts() -> None:
    found = msgids()
    assert "Inbox" in found
    assert "All open" in found  # marked with N_ in tui/labels.py
    assert "Internal note" in found  # a binding description
    assert len(found) > 100


def test_every_msgid_has_a_chinese_translation() -> None:
    with (locales_dir() / "zh_CN.toml").open("rb") as file:
        catalog = tomllib.load(file)
    missing = {text: where for text, where in msgids().items() if text not in catalog}
    assert not missing, f"add these to locales/zh_CN.toml: {missing}"


def test_placeholders_match() -> None:
    catalog = load_catalog("zh_CN")
    wrong = {
        text: catalog[text]
        for text in msgids()
        if text in catalog and placeholders(text) != placeholders(catalog[text])
    }
    assert not wrong


def test_translations_are_chinese_and_not_empty() -> None:
    catalog = load_catalog("zh_CN")
    assert all(value.strip() for value in catalog.values())
    assert catalog["Inbox"] == "收件箱"


def test_set_language_switches_and_formats() -> None:
    before = current_language()
    try:
        set_language("zh_CN")
        assert _("Case {ref}", ref="LD-000001") == "工单 LD-000001"
        set_language("en")
        assert _("Case {ref}", ref="LD-000001") == "Case LD-000001"
        with pytest.raises(ValueError):
            set_language("xx")
    finally:
        set_language(before)


def test_every_timeline_event_kind_has_a_label() -> None:
    """A kind without a label would stop the case screen from drawing its timeline."""
    from linkdesk.domain.cases import EventKind
    from linkdesk.tui import labels

    assert [kind for kind in EventKind if kind not in labels.EVENT_KINDS] == []
