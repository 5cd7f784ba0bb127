"""The filter language's parser (domain/filters.py) and the console's completion of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkdesk.domain.cases import CaseCategory, CaseStatus, Priority
from linkdesk.domain.filters import (
    DESK_ZONE,
    KEYS,
    FilterError,
    InvalidFilter,
    TimeRange,
    end_of_desk_day,
    parse,
    parse_strict,
)
from linkdesk.tui.filter_terms import complete

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def test_every_key_with_free_text() -> None:
    f = parse_strict(
        '换号 status:new,pending cat:recycled_number prio:urgent risk:>=60 assignee:me '
        'sla:breached phone:1234 tag:x created:>-7d updated:2026-11-01..2026-11-20 "two words"'
    )
    assert f.text == "换号 two words"
    assert f.statuses == {CaseStatus.NEW, CaseStatus.PENDING}
    assert f.categories == {CaseCategory.RECYCLED_NUMBER}
    assert f.priorities == {Priority.URGENT}
    assert (f.risk_min, f.risk_max) == (60, None)
    assert f.assignees == {"me"} and f.sla == {"breached"} and f.phone_last4 == "1234" and f.tags == {"x"}
    assert f.created == TimeRange(after=timedelta(days=-7))
    assert f.updated is not None and f.updated.resolve(NOW) == (
        datetime(2026, 11, 1, tzinfo=DESK_ZONE), datetime(2026, 11, 21, tzinfo=DESK_ZONE))


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("cat:rec", "categories", {CaseCategory.RECYCLED_NUMBER}),
        ("category:EXP", "categories", {CaseCategory.EXPOSURE}),
        ("status:active", "statuses", {CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.ON_HOLD}),
        ("status:done", "statuses", {CaseStatus.RESOLVED, CaseStatus.CLOSED}),
        ("-status:closed", "not_statuses", {CaseStatus.CLOSED}),
        ("prio:>=high", "priorities", {Priority.URGENT, Priority.HIGH}),
        ("prio:<normal", "priorities", {Priority.LOW}),
        ("-prio:low,normal", "not_priorities", {Priority.LOW, Priority.NORMAL}),
        ("risk:60", "risk_min", 60),
        ("risk>=60", "risk_min", 60),
        ("RISK:>60", "risk_min", 61),
        ("risk:<30", "risk_max", 29),
        ("risk:<=30", "risk_max", 30),
        ("assignee:none,Wangfang", "assignees", {"none", "wangfang"}),
        ("-assignee:me", "not_assignees", {"me"}),
        ("sla:tod", "sla", {"today"}),
        ("phone:138-1234-5678", "phone_number", "13812345678"),
        ('phone:"+86 138 1234 5678"', "phone_number", "+8613812345678"),
        ("-tag:vip -tag:复核", "not_tags", {"vip", "复核"}),
        ('tag:"two words"', "tags", {"two words"}),
        ("created:<2026-11-01", "created", TimeRange(before=datetime(2026, 11, 1, tzinfo=DESK_ZONE))),
        ("created:<=2026-11-01", "created", TimeRange(before=datetime(2026, 11, 2, tzinfo=DESK_ZONE))),
        ("created:>2026-11-01", "created", TimeRange(after=datetime(2026, 11, 2, tzinfo=DESK_ZONE))),
        ("updated:<-2w", "updated", TimeRange(before=timedelta(weeks=-2))),
        ("updated:-12h", "updated", TimeRange(after=timedelta(hours=-12))),
        ("created:..-1d", "created", TimeRange(before=timedelta(days=-1))),
    ],
)
def test_values(text: str, field: str, value: object) -> None:
    assert getattr(parse_strict(text), field) == value


def test_a_status_term_is_exactly_that_status() -> None:
    assert parse_strict("status:open").statuses == {CaseStatus.OPEN}


@pytest.mark.parametrize(
    ("text", "term", "message"),
    [
        ("foo:bar", "foo:bar", "unknown key foo"),
        ("cat:privacy", "cat:privacy", "could be privacy_request, privacy_incident"),
        ("cat:nope", "cat:nope", "is not one of rebind"),
        ("status:", "status:", "needs a value"),
        ("prio:>urgent", "prio:>urgent", "no priority"),
        ("risk:>=101", "risk:>=101", "from 0 to 100"),
        ("risk:abc", "risk:abc", "risk:>=N with a score"),
        ("risk:>=30 risk:>=90", "risk:>=90", "only once"),
        ("cat:rebind cat:exposure", "cat:exposure", "comma list"),
        ("-risk:>=60", "-risk:>=60", "cannot be excluded"),
        ("-换号", "-换号", "only terms can be excluded"),
        ("sla:late", "sla:late", "breached, today, paused"),
        ('assignee:"Li Wei"', 'assignee:"Li Wei"', "login name"),
        ("created:2026-02-30", "created:2026-02-30", "a date"),
        ("created:2026-11-20..2026-11-01", "created:2026-11-20..2026-11-01", "ends before it starts"),
        ("updated:yesterday", "updated:yesterday", "-7d"),
        ('"an open quote', '"an open quote', "not closed"),
        ("phone:138123", "phone:…", "last four digits"),
    ],
)
def test_errors_point_at_the_term(text: str, term: str, message: str | None) -> None:
    errors = parse(text).errors
    assert errors, text
    error = errors[0]
    assert error.term == term
    if term != "phone:…":
        assert text[error.start:error.end] == term
    if message:
        assert message in error.message
    with pytest.raises(InvalidFilter):
        parse_strict(text)


def test_every_bad_term_is_reported_and_the_good_ones_still_parse() -> None:
    parsed = parse("foo:1 cat:rebind bar:2 换号")
    assert [e.term for e in parsed.errors] == ["foo:1", "bar:2"]
    assert parsed.filter.categories == {CaseCategory.REBIND} and parsed.filter.text == "换号"


def test_a_number_is_never_repeated_in_an_error() -> None:
    for text in ("phone:1381234567x", "-phone:13812345678", "x" * 195 + " 13812345678"):
        for error in parse(text).errors:
            assert "1234567" not in error.term + error.message


def test_words_that_only_look_like_terms_stay_text() -> None:
    parsed = parse("risk risky risk-alert LD-000123 10：30")
    assert not parsed.errors and parsed.filter.text == "risk risky risk-alert LD-000123 10：30"


def test_the_end_of_the_desk_day_is_shanghai_midnight() -> None:
    assert end_of_desk_day(datetime(2026, 11, 29, 15, 59, tzinfo=UTC)) == datetime(2026, 11, 30, tzinfo=DESK_ZONE)
    assert end_of_desk_day(datetime(2026, 11, 29, 16, 0, tzinfo=UTC)) == datetime(2026, 12, 1, tzinfo=DESK_ZONE)


_ALPHABET = st.sampled_from(list('abcdeprst:,-"<>=.. 0123456789换号\t') + [f"{k}:" for k in KEYS])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join) | st.text(max_size=80))
def test_parsing_never_raises_and_errors_lie_inside_the_input(text: str) -> None:
    parsed = parse(text)
    for error in parsed.errors:
        assert isinstance(error, FilterError)
        assert 0 <= error.start < error.end <= len(text)
        assert error.message
    if not parsed.errors:
        assert parse_strict(text) == parsed.filter


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("ca", "cat:"),
        ("换号 -ta", "换号 -tag:"),
        ("cat:rec", "cat:recycled_number"),
        ("cat:rebind,un", "cat:rebind,unreachable"),
        ("status:on", "status:on_hold"),
        ("prio:>=u", "prio:>=urgent"),
        ("assignee:wa", "assignee:wangfang"),
        ("assignee:n", "assignee:none"),
        ("sla:b", "sla:breached"),
        ("cat:rebind ", None),
        ("cat:zzz", None),
        ("text", None),
    ],
)
def test_completion(typed: str, suggested: str | None) -> None:
    assert complete(typed, ["wangfang", "lina"]) == suggested
