"""Reply templates (macros): named texts with placeholders, per case category, in both
languages of the console.

The packaged set is ``linkdesk/policies/templates.toml``. An installation adds or
overrides templates with a TOML file of the same shape named by ``LINKDESK_TEMPLATES``
(or passed as ``path``): it is merged over the packaged file by template name, key by
key, so an override may change only ``body.zh_CN`` of one template.

Placeholders are ``{name}`` fields from :data:`PLACEHOLDERS` and nothing else: none of
them is personal data. A template with an unknown placeholder, a malformed field or a
missing language is refused when the file is loaded (:class:`TemplateError` naming the
template), never at send time.
"""

from __future__ import annotations

import datetime as dt
import os
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from linkdesk.domain import policy_files
from linkdesk.domain.cases import CaseCategory
from linkdesk.domain.text import clean

ANSWER_WORKING_DAYS = 15
"""Personal-information requests are answered within 15 working days (App 违法违规
认定方法, 国信办秘字〔2019〕191号); see docs/privacy.md."""

LANGUAGES = ("en", "zh_CN")
FALLBACK_LANGUAGE = "en"
ENVIRONMENT_VARIABLE = "LINKDESK_TEMPLATES"

PLACEHOLDERS: dict[str, str] = {
    "case_ref": "the case reference, e.g. LD-2026-000123",
    "agent": "the display name of the agent writing the reply",
    "desk": "the name of the desk",
    "today": "today's date, YYYY-MM-DD",
    "category": "the case category, e.g. rebind",
    "received": "the date the case was received, YYYY-MM-DD",
    "answer_by": "the latest date to answer a personal-information request, YYYY-MM-DD: the "
    "case's due date for a privacy request, else 15 working days after it was received",
}
"""Every placeholder a template may use (name → description). Nothing personal."""

_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    """A templates file that cannot be read or does not validate; the message names the
    file and the template."""


class Template(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    category: CaseCategory | None
    """``None`` (``"*"`` in the file): offered for every category."""
    title: dict[str, str]
    body: dict[str, str]

    @field_validator("category", mode="before")
    @classmethod
    def _star(cls, value: object) -> object:
        return None if value == "*" else value

    @model_validator(mode="after")
    def _complete(self) -> Template:
        for field in ("title", "body"):
            texts: dict[str, str] = getattr(self, field)
            missing = [language for language in LANGUAGES if not texts.get(language, "").strip()]
            if missing:
                raise ValueError(f"{field} is missing language {', '.join(missing)}")
            unknown = sorted(set(texts) - set(LANGUAGES))
            if unknown:
                raise ValueError(f"{field} has unknown language {', '.join(unknown)}")
            for language, text in texts.items():
                _check_placeholders(text, f"{field}.{language}")
        return self


def _check_placeholders(text: str, where: str) -> None:
    try:
        fields = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise ValueError(f"{where}: malformed placeholder ({exc}); write {{{{ for a brace")
    for _literal, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise ValueError(
                f"{where}: unknown placeholder {{{name}}}; "
                f"use one of {', '.join('{' + known + '}' for known in PLACEHOLDERS)}"
            )
        if spec or conversion:
            raise ValueError(f"{where}: placeholder {{{name}}} takes no format or conversion")


def _validate(table: Mapping[str, Any], what: str) -> dict[str, Template]:
    templates: dict[str, Template] = {}
    for name, entry in table.items():
        if not isinstance(entry, Mapping):
            raise TemplateError(f"{what}: template {name!r} must be a table")
        try:
            templates[name] = Template.model_validate({**entry, "name": name})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or name}: "
                f"{error['msg'].removeprefix('Value error, ')}"
                for error in exc.errors()
            )
            raise TemplateError(f"{what}: template {name!r}: {problems}") from exc
    return templates


def load_templates(path: Path | None = None) -> dict[str, Template]:
    """The packaged templates, merged by name with ``path`` (default: the file named by
    ``LINKDESK_TEMPLATES``, if set). Raises :class:`TemplateError`."""
    table = policy_files.packaged_table("templates.toml")
    what = "the packaged templates"
    if path is None and os.environ.get(ENVIRONMENT_VARIABLE):
        path = Path(os.environ[ENVIRONMENT_VARIABLE])
    if path is not None:
        table = policy_files.merge_tables(table, policy_files.read_table(Path(path), "templates", TemplateError))
        what = f"templates {path}"
    return _validate(table, what)


def templates_for(
    templates: Mapping[str, Template] | Iterable[Template], category: CaseCategory | str | None
) -> list[Template]:
    """The templates offered for a case of ``category``: its own, then the generic ones
    (``"*"``), each group by name."""
    items = list(templates.values() if isinstance(templates, Mapping) else templates)
    wanted = CaseCategory(category) if category else None
    own = [t for t in items if t.category is not None and t.category == wanted]
    generic = [t for t in items if t.category is None]
    return sorted(own, key=lambda t: t.name) + sorted(generic, key=lambda t: t.name)


def render(template: Template, language: str, values: Mapping[str, str]) -> str:
    """The body in ``language`` (falling back to English) with its placeholders filled.
    Values are cleaned of control characters; a placeholder without a value renders
    empty."""
    body = template.body.get(language) or template.body[FALLBACK_LANGUAGE]
    return _fill(body, values)


def render_title(template: Template, language: str) -> str:
    return template.title.get(language) or template.title[FALLBACK_LANGUAGE]


def _fill(text: str, values: Mapping[str, str]) -> str:
    parts: list[str] = []
    for literal, name, _spec, _conversion in _FORMATTER.parse(text):
        parts.append(literal)
        if name is not None:
            parts.append(clean(str(values.get(name, ""))))
    return "".join(parts)


def working_days_after(start: dt.date, days: int) -> dt.date:
    """``days`` working days (Monday to Friday) after ``start``; public holidays are not
    known to the desk, so the date errs early, never late."""
    current = start
    while days > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def placeholder_values(
    *,
    case_ref: str,
    agent: str,
    desk: str,
    category: str,
    today: dt.date,
    received: dt.date | None = None,
    answer_by: dt.date | None = None,
) -> dict[str, str]:
    """Every placeholder's value for one reply (see :data:`PLACEHOLDERS`). Without
    ``answer_by`` (the desk's due date of a privacy request, which knows the holidays),
    it is 15 weekdays after ``received`` (default ``today``)."""
    received = received or today
    answer_by = answer_by or working_days_after(received, ANSWER_WORKING_DAYS)
    return {
        "case_ref": case_ref,
        "agent": agent,
        "desk": desk,
        "today": today.isoformat(),
        "category": category,
        "received": received.isoformat(),
        "answer_by": answer_by.isoformat(),
    }
