"""The inbox filter's small term parser: ``risk:>=60`` among free text."""

from __future__ import annotations

import pytest

from linkdesk.tui.filter_terms import parse_filter


@pytest.mark.parametrize("term", ["risk:>=60", "risk:60", "risk>=60", "RISK:>=60", "Risk:060"])
def test_each_accepted_spelling_means_at_least(term: str) -> None:
    parsed = parse_filter(term)
    assert (parsed.text, parsed.risk_min, parsed.errors) == ("", 60, [])


def test_the_term_is_taken_out_of_the_free_text() -> None:
    parsed = parse_filter("  换号  risk:>=85   LD-000123 ")
    assert parsed.text == "换号 LD-000123"
    assert parsed.risk_min == 85
    assert not parsed.errors


def test_words_that_only_look_like_risk_stay_text() -> None:
    parsed = parse_filter("risk risky risk-alert")
    assert parsed.text == "risk risky risk-alert"
    assert parsed.risk_min is None and not parsed.errors


def test_the_bounds_are_zero_and_a_hundred() -> None:
    assert parse_filter("risk:0").risk_min == 0
    assert parse_filter("risk:>=100").risk_min == 100
    error = parse_filter("risk:>=101").errors[0]
    assert error.term == "risk:>=101" and "from 0 to 100" in error.message


@pytest.mark.parametrize("term", ["risk:", "risk:abc", "risk:>60", "risk<=30", "risk=60", "risk:>=6x", "risk:-5"])
def test_a_malformed_term_is_pointed_at(term: str) -> None:
    value = f"换号 {term} more"
    parsed = parse_filter(value)
    assert parsed.risk_min is None
    assert parsed.text == "换号 more"  # the rest still reads as text
    [error] = parsed.errors
    assert value[error.start:error.end] == term == error.term
    assert "risk:>=60" in error.message


def test_a_second_risk_term_is_an_error_not_a_silent_choice() -> None:
    parsed = parse_filter("risk:>=30 risk:>=90")
    assert parsed.risk_min == 30
    [error] = parsed.errors
    assert error.term == "risk:>=90" and error.start == 10
