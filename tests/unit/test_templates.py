"""Reply templates: the packaged set, validation at load, rendering, overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from linkdesk.domain.cases import CaseCategory
from linkdesk.domain.templates import (
    PLACEHOLDERS,
    TemplateError,
    load_templates,
    placeholder_values,
    render,
    templates_for,
    working_days_after,
)

VALUES = placeholder_values(
    case_ref="LD-000042", agent="Ana", desk="Help desk", category="rebind", today=dt.date(2026, 11, 27)
)


def test_packaged_templates_cover_every_category_in_both_languages() -> None:
    templates = load_templates()
    for category in CaseCategory:
        own = [t for t in templates_for(templates, category) if t.category is category]
        assert own, f"no template for {category}"
    for template in templates.values():
        for language in ("en", "zh_CN"):
            text = render(template, language, VALUES)
            assert text.strip() and "{" not in text and "}" not in text, template.name


def test_render_both_languages_with_fallback_and_clean_values() -> None:
    template = load_templates()["privacy_request_acknowledge"]
    english = render(template, "en", VALUES)
    chinese = render(template, "zh_CN", VALUES)
    # received on a Friday: 15 working days later is three weeks on, a Friday
    assert "2026-12-18" in english and "2026-12-18" in chinese
    assert "个人信息保护法" in chinese and "Personal Information Protection Law" in english
    assert render(template, "fr", VALUES) == english
    holiday_aware = placeholder_values(case_ref="LD-000042", agent="Ana", desk="D", category="x",
                                       today=dt.date(2026, 11, 27), answer_by=dt.date(2026, 12, 21))
    assert "2026-12-21" in render(template, "zh_CN", holiday_aware)
    dirty = render(template, "en", VALUES | {"agent": "Ana\x1b]52;c;evil\x07"})
    assert "\x1b" not in dirty and "\x07" not in dirty


def test_recycled_number_reply_discloses_nothing_personal() -> None:
    template = load_templates()["recycled_number_reply"]  # the playbook's answer to a stranger
    for language in ("en", "zh_CN"):
        fields = {name for name in PLACEHOLDERS if "{" + name + "}" in template.body[language]}
        assert fields <= {"case_ref", "desk", "today", "agent"}  # the agent's name, never the borrower's


def test_generic_templates_come_after_the_category_ones() -> None:
    offered = templates_for(load_templates(), CaseCategory.REBIND)
    categories = [t.category for t in offered]
    assert categories[0] is CaseCategory.REBIND
    assert None in categories and set(categories) <= {CaseCategory.REBIND, None}
    assert categories.index(None) > max(i for i, c in enumerate(categories) if c is not None)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "templates.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_override_merges_by_name_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, '''
[acknowledge]
body.zh_CN = "已收到，编号 {case_ref}。"

[callback]
category = "unreachable"
title.en = "Callback booked"
title.zh_CN = "已预约回电"
body.en = "We will call you back about {case_ref}."
body.zh_CN = "我们将就 {case_ref} 回电。"
''')
    monkeypatch.setenv("LINKDESK_TEMPLATES", str(path))
    templates = load_templates()
    assert render(templates["acknowledge"], "zh_CN", VALUES) == "已收到，编号 LD-000042。"
    assert "LD-000042" in render(templates["acknowledge"], "en", VALUES)  # the rest is kept
    assert templates["callback"] in templates_for(templates, CaseCategory.UNREACHABLE)
    assert templates["callback"] not in templates_for(templates, CaseCategory.REBIND)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (('[bad]\ncategory = "*"\ntitle.en = "t"\ntitle.zh_CN = "t"\nbody.en = "Dear {borrower_name}"\n'
         'body.zh_CN = "x"\n'), "unknown placeholder {borrower_name}"),
        ('[bad]\ncategory = "*"\ntitle.en = "t"\ntitle.zh_CN = "t"\nbody.en = "only English"\n',
         "missing language zh_CN"),
        ('[bad]\ncategory = "loans"\ntitle.en = "t"\ntitle.zh_CN = "t"\nbody.en = "x"\nbody.zh_CN = "x"\n',
         "category"),
        ('[bad]\ncategory = "*"\ntitle.en = "t"\ntitle.zh_CN = "t"\nbody.en = "{case_ref!r}"\nbody.zh_CN = "x"\n',
         "no format"),
    ],
)
def test_a_bad_template_is_refused_at_load_naming_it(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TemplateError, match="'bad'") as raised:
        load_templates(_write(tmp_path, text))
    assert message in str(raised.value)


def test_unreadable_override_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read"):
        load_templates(tmp_path / "missing.toml")
    with pytest.raises(TemplateError, match="not valid TOML"):
        load_templates(_write(tmp_path, "[oops"))


def test_working_days_skip_weekends() -> None:
    assert working_days_after(dt.date(2026, 11, 27), 1) == dt.date(2026, 11, 30)  # Fri → Mon
    assert working_days_after(dt.date(2026, 11, 28), 5) == dt.date(2026, 12, 4)  # Sat → Fri
