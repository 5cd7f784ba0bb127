"""Reply templates in the console: which ones the comment dialog of a case offers, in
which language, and the placeholder values (nothing personal: the case's ref and
category, the agent, the desk, dates).

The comment dialog (``TextEntry`` in ``dialogs.py``) shows the picker on ctrl+t.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

from linkdesk.domain.cases import Case, CaseCategory
from linkdesk.domain.templates import (
    ENVIRONMENT_VARIABLE,
    Template,
    TemplateError,
    load_templates,
    placeholder_values,
    templates_for,
)
from linkdesk.i18n import _, current_language
from linkdesk.tui import labels

SHANGHAI_OFFSET = timedelta(hours=8)
"""Dates in replies are mainland dates (Asia/Shanghai has no daylight saving)."""

_loaded: dict[str, dict[str, Template]] = {}


def installed_templates() -> dict[str, Template]:
    """The packaged templates merged with ``LINKDESK_TEMPLATES``; read once per
    override file. Raises :class:`TemplateError` for a file that does not validate."""
    override = os.environ.get(ENVIRONMENT_VARIABLE, "")
    if override not in _loaded:
        _loaded[override] = load_templates()
    return _loaded[override]


def comment_options(app: Any, case: Case | None) -> dict[str, Any]:
    """Keyword arguments for the comment dialog of ``case``: its category's templates
    and the generic ones, in the console's language, with their values. A templates
    file that does not load is reported once and the dialog opens without templates."""
    if case is None:
        return {}
    try:
        templates = templates_for(installed_templates(), case.category)
    except TemplateError as exc:
        app.notify(_("Reply templates unavailable: {error}", error=str(exc)), severity="warning", markup=False)
        return {}
    now = app.clock() if hasattr(app, "clock") else datetime.now(UTC)
    values = placeholder_values(
        case_ref=case.ref,
        agent=str(getattr(app, "agent_label", "") or ""),
        desk=str(getattr(app, "desk_label", "") or ""),
        category=labels.category(case.category),
        today=_mainland_date(now),
        received=_mainland_date(case.created_at),
        # a privacy request's due date is the desk's (it knows the mainland holidays)
        answer_by=_mainland_date(case.sla_due_at) if case.category is CaseCategory.PRIVACY_REQUEST else None,
    )
    return {"templates": templates, "values": values, "language": current_language()}


def _mainland_date(moment: datetime) -> date:
    return (moment.astimezone(UTC) + SHANGHAI_OFFSET).date()
