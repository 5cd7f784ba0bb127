"""Tokens for the full-text index, and the query that matches them.

SQLite's unicode61 tokenizer takes a run of Chinese as one token and trigram finds
nothing under three characters, so Chinese is indexed as overlapping bigrams
(``换号码`` → ``换号 号码``) and a query becomes a phrase of its bigrams. A lone CJK
character is kept as a unigram so that one-character queries work too. Latin words
and digit runs are lower-cased and kept whole.
"""

from __future__ import annotations

import re

_RUNS = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|([0-9A-Za-z\u00c0-\u024f]+)")


def _cjk_tokens(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_tokens(*texts: str) -> str:
    """The space-separated token string stored in the index for these texts."""
    tokens: list[str] = []
    for text in texts:
        for cjk, word in _RUNS.findall(text):
            if cjk:
                tokens.extend(_cjk_tokens(cjk))
                tokens.extend(cjk)  # unigrams: a one-character query finds them
            else:
                tokens.append(word.lower())
    return " ".join(tokens)


def query_phrases(query: str) -> list[list[str]]:
    """Each run of the query as a phrase of tokens; a row must match all phrases."""
    phrases: list[list[str]] = []
    for cjk, word in _RUNS.findall(query):
        if cjk:
            phrases.append(_cjk_tokens(cjk))
        else:
            phrases.append([word.lower()])
    return phrases


def fts5_match(query: str) -> str | None:
    """An FTS5 MATCH expression for ``query``, or None when it has no searchable text."""
    phrases = query_phrases(query)
    if not phrases:
        return None
    parts = []
    for tokens in phrases:
        phrase = '"' + " ".join(tokens) + '"'
        # a Latin word or digit run also finds longer words it begins: "refun" → refund
        parts.append(phrase + "*" if len(tokens) == 1 and tokens[0].isascii() else phrase)
    return " AND ".join(parts)
