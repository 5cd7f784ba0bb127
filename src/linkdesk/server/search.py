"""The text-search condition of the case list, per database.

Tokens come from :func:`linkdesk.domain.search.index_tokens` (CJK bigrams plus
unigrams, Latin words): FTS5 over them on SQLite, a ``simple`` tsvector with a GIN
index on PostgreSQL. A ref such as ``LD-000123`` and four digits (the last four of
the number) are matched exactly besides.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Integer, bindparam, column, false, or_, select, text

from linkdesk.domain.refs import InvalidRef, parse_case_ref
from linkdesk.domain.search import fts5_match, query_phrases
from linkdesk.server.tables import CaseRow

_REF = re.compile(r"^\s*LD-?\d{1,12}\s*$", re.IGNORECASE)
_LAST4 = re.compile(r"^\d{4}$")


def tsquery(query: str) -> str | None:
    """A ``to_tsquery('simple', …)`` string: ``<->`` inside a phrase, ``&`` between, ``:*``
    on a lone Latin or digit token. Tokens hold only letters and digits (the tokenizer's
    runs), and each is quoted besides, so nothing in ``q`` can act as an operator."""
    parts = []
    for tokens in query_phrases(query):
        quoted = ["'" + token.replace("'", "''").replace("\\", "") + "'" for token in tokens]
        if len(tokens) == 1 and tokens[0].isascii():
            parts.append(quoted[0] + ":*")
        else:
            parts.append("(" + " <-> ".join(quoted) + ")")
    return " & ".join(parts) or None


def text_condition(q: str, dialect: str) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if dialect == "sqlite":
        match = fts5_match(q)
        if match:
            conditions.append(
                CaseRow.id.in_(
                    text("SELECT rowid FROM case_fts WHERE case_fts MATCH :fts_match").bindparams(
                        bindparam("fts_match", match)
                    ).columns(column("rowid", Integer))
                )
            )
    else:
        tsq = tsquery(q)
        if tsq:
            conditions.append(
                text(
                    "to_tsvector('simple', cases.search_tokens) @@ to_tsquery('simple', :tsq)"
                ).bindparams(bindparam("tsq", tsq))
            )
    if _REF.match(q):
        try:
            conditions.append(CaseRow.id == parse_case_ref(q))
        except InvalidRef:
            pass
    stripped = q.strip()
    if _LAST4.match(stripped):
        # as a set of ids (seeked in ix_cases_phone_last4): an inbox walk then checks the
        # id it already holds instead of reading every row for its phone_last4
        matching = select(CaseRow.id).where(CaseRow.phone_last4 == stripped).correlate(None)
        conditions.append(CaseRow.id.in_(matching))
    return or_(*conditions) if conditions else false()
