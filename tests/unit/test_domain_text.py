from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from linkdesk.domain.borrowers import mask_id_number, mask_name
from linkdesk.domain.cases import CaseCategory, Priority
from linkdesk.domain.refs import InvalidRef, case_ref, parse_case_ref
from linkdesk.domain.search import fts5_match, index_tokens, query_phrases
from linkdesk.domain.sla import describe_remaining, due_at
from linkdesk.domain.text import clean, clean_line


def test_clean_replaces_escape_sequences_and_c1_controls():
    assert clean("a\x1b[2Jb\x9bc\x07") == "a\ufffd[2Jb\ufffdc\ufffd"
    assert clean("line\nnext\tcol") == "line\nnext\tcol"
    assert clean_line("two\nlines\there") == "two lines here"


@given(st.text())
def test_clean_leaves_no_control_characters(text):
    for char in clean(text):
        code = ord(char)
        assert not (code < 0x20 and char not in "\n\t") and not (0x7F <= code <= 0x9F)


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("王小明", "王**"), ("欧阳娜娜", "欧阳**"), ("司马光", "司马*"), ("Li Lei", "L*****")],
)
def test_names_are_masked_after_the_surname(name, masked):
    assert mask_name(name) == masked


def test_id_numbers_keep_first_three_and_last_four():
    assert mask_id_number("110101199003071234") == "110***********1234"


def test_case_refs_round_trip():
    assert case_ref(123) == "LD-000123"
    assert parse_case_ref("LD-000123") == parse_case_ref("ld123") == parse_case_ref("123") == 123
    with pytest.raises(InvalidRef):
        parse_case_ref("LD-0")
    with pytest.raises(InvalidRef):
        parse_case_ref("B-12")


def test_chinese_is_indexed_as_bigrams_and_unigrams_latin_as_words():
    tokens = index_tokens("借款人换号 refund请求").split()
    assert "换号" in tokens and "款人" in tokens and "换" in tokens
    assert "refund" in tokens and "请求" in tokens


def test_query_is_a_phrase_of_bigrams_per_run():
    assert query_phrases("二次号 Refund") == [["二次", "次号"], ["refund"]]
    assert fts5_match("二次号 refun") == '"二次 次号" AND "refun"*'
    assert fts5_match("   !!! ") is None


@given(st.text(alphabet="换号二次码借款人abc ", min_size=2, max_size=12))
def test_every_cjk_substring_of_two_or_more_is_a_phrase_of_the_indexed_tokens(text):
    tokens = index_tokens(text).split()
    for phrase in query_phrases(text):
        joined = " ".join(phrase)
        assert joined in " ".join(tokens)


def test_privacy_requests_are_due_in_fifteen_days_whatever_the_priority():
    # business time on the mainland calendar since issue 5 (more in tests/unit/test_sla.py)
    received = datetime(2026, 1, 5, tzinfo=UTC)  # Monday 08:00 in Shanghai
    end_of_15th_working_day = datetime(2026, 1, 26, 10, tzinfo=UTC)  # 18:00 in Shanghai
    assert due_at(CaseCategory.PRIVACY_REQUEST, Priority.URGENT, received) == end_of_15th_working_day
    assert due_at(CaseCategory.PRIVACY_REQUEST, Priority.LOW, received) == end_of_15th_working_day
    assert due_at(CaseCategory.REBIND, Priority.URGENT, received) == datetime(2026, 1, 5, 5, tzinfo=UTC)


def test_remaining_time_is_compact_and_signed():
    now = datetime(2026, 1, 5, tzinfo=UTC)
    assert describe_remaining(now + timedelta(hours=3, minutes=5), now) == "3h"
    assert describe_remaining(now - timedelta(minutes=12), now) == "-12m"
    assert describe_remaining(now + timedelta(days=4), now) == "4d"
