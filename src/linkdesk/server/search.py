"""The text-search condition of the case list, per database.

Tokens come from :func:`linkdesk.domain.search.index_tokens` (CJK bigrams plus
unigrams, Latin words): FTS5 over them on SQLite, a ``simple`` tsvector with a GIN
index on PostgreSQL. A ref such as ``LD-000123`` and four digits (the last four of
the number) are matched exactly besides.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Integer, bindparam, column, false, or_, select, text
from sqlalchemy.orm import Session

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
            # ``id + 0``: many matches (few go through few_matches), so walk the inbox
            # index and test each row; never fetch and sort every match
            conditions.append(
                (CaseRow.id + 0).in_(
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
        conditions.append((CaseRow.id + 0).in_(matching))
    return or_(*conditions) if conditions else false()


FEW_HITS = 2000
"""Up to this many matches, a search fetches its matches and sorts them; beyond, it walks
the inbox index and tests each row. Either way is fast where it is used: walking finds
50 common matches at once, but for a rare term (or a last four digits with a handful
of cases) it would read most of the index before it had a page (~60 ms at 1M cases,
against ~0.2 ms from the matches)."""


def few_matches(session: Session, q: str, dialect: str, limit: int | None = None) -> list[int] | None:
    """The ids of every case ``q`` matches when there are at most ``limit``
    (:data:`FEW_HITS`), else None."""
    limit = FEW_HITS if limit is None else limit
    ids: set[int] = set()
    queries = []
    if dialect == "sqlite":
        match = fts5_match(q)
        if match:
            queries.append(
                text("SELECT rowid FROM case_fts WHERE case_fts MATCH :m LIMIT :n").bindparams(
                    m=match, n=limit + 1
                )
            )
    else:
        tsq = tsquery(q)
        if tsq:
            queries.append(
                text(
                    "SELECT id FROM cases WHERE to_tsvector('simple', search_tokens) "
                    "@@ to_tsquery('simple', :tsq) LIMIT :n"
                ).bindparams(tsq=tsq, n=limit + 1)
            )
    stripped = q.strip()
    if _LAST4.match(stripped):
        queries.append(select(CaseRow.id).where(CaseRow.phone_last4 == stripped).limit(limit + 1))
    for query in queries:
        ids.update(session.scalars(query))
        if len(ids) > limit:
            return None
    if _REF.match(q):
        try:
            ids.add(parse_case_ref(q))
        except InvalidRef:
            pass
    return sorted(ids)
