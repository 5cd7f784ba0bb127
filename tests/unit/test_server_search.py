"""The PostgreSQL tsquery builder and the keyset cursors."""

from __future__ import annotations

import pytest

from linkdesk.server import cursors
from linkdesk.server.errors import BadRequest
from linkdesk.server.search import tsquery


def test_tsquery_phrases_prefixes_and_conjunction() -> None:
    assert tsquery("换号") == "('换号')"
    assert tsquery("二次号") == "('二次' <-> '次号')"
    assert tsquery("号") == "('号')"
    assert tsquery("Refun 换号") == "'refun':* & ('换号')"
    assert tsquery("1234") == "'1234':*"


def test_tsquery_has_no_operators_from_input() -> None:
    assert tsquery("a' | b & !c <-> (d)") == "'a':* & 'b':* & 'c':* & 'd':*"
    assert tsquery("!!! ''") is None


def test_cursor_round_trip_and_refusals() -> None:
    cursor = cursors.encode({"s": "-updated", "f": "abc", "k": "2026-01-01T00:00:00+00:00", "i": 5})
    assert cursors.decode(cursor, sort="-updated", filters="abc")["i"] == 5
    with pytest.raises(BadRequest):
        cursors.decode(cursor, sort="due", filters="abc")
    with pytest.raises(BadRequest):
        cursors.decode(cursor, sort="-updated", filters="other")
    for garbage in ("", "%%%", "bm90IGpzb24", cursors.encode({"s": "-updated"})):
        with pytest.raises(BadRequest):
            cursors.decode(garbage, sort="-updated", filters="abc")


def test_fingerprint_ignores_key_order() -> None:
    assert cursors.fingerprint({"a": 1, "b": 2}) == cursors.fingerprint({"b": 2, "a": 1})
