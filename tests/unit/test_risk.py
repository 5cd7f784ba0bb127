"""The risk engine: signals, score, levels, tenure at binding, and the policy file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from linkdesk.domain import risk
from linkdesk.domain.intel import IdentityMatch, IntelReport, LineStatus, Reassigned, Tenure
from linkdesk.domain.risk import (
    SIGNAL_CODES,
    BindingFacts,
    RiskAssessment,
    RiskLevel,
    RiskPolicy,
    RiskPolicyError,
    RiskSignal,
    assess,
    default_policy,
    load_policy,
    merge_tables,
)

BOUND = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LEVEL_ORDER = [RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL]


def report(*, checked_at: datetime = AT, provider: str = "sandbox", **answers) -> IntelReport:
    return IntelReport(
        provider=provider, checked_at=checked_at, reference_date=BOUND.date(), **answers
    )


def facts(**known) -> BindingFacts:
    return BindingFacts(bound_at=BOUND, **known)


def codes(assessment: RiskAssessment) -> list[str]:
    return [signal.code for signal in assessment.signals]


@pytest.fixture
def policy() -> RiskPolicy:
    return default_policy()


# --- the packaged policy ---------------------------------------------------------------


def test_packaged_default_policy_loads_with_every_signal(policy):
    assert load_policy(None) is policy
    assert risk.DEFAULT_POLICY is policy
    assert (policy.levels.medium, policy.levels.high, policy.levels.critical) == (30, 60, 85)
    weights = {code: getattr(policy.signals, code).weight for code in SIGNAL_CODES}
    assert weights == {
        "reassigned": 100,
        "identity_mismatch": 60,
        "cancelled": 50,
        "shared_number": 35,
        "line_down": 30,
        "virtual_number": 30,
        "recent_port_or_swap": 25,
        "repeated_rebinds": 25,
        "short_tenure": 20,
    }
    critical = [code for code in SIGNAL_CODES if getattr(policy.signals, code).critical]
    assert critical == ["reassigned"]
    assert policy.label.startswith("default/1#")


def test_packaged_policy_file_is_inside_the_package():
    packaged = Path(risk.__file__).parent.parent / "policies" / "risk.toml"
    assert load_policy(packaged) == default_policy()


# --- each signal fires on its evidence, and not on unknown ------------------------------

# (code, facts, report answers, words in the evidence, source)
FIRING = [
    ("reassigned", {}, {"reassigned": Reassigned.YES}, "re-issued", "sandbox"),
    (
        "cancelled",
        {},
        {"reassigned": Reassigned.CANCELLED},
        "cancelled since 2026-05-01",
        "sandbox",
    ),
    ("identity_mismatch", {}, {"identity": IdentityMatch.MISMATCH}, "mismatch", "sandbox"),
    ("line_down", {}, {"line_status": LineStatus.SHUT_DOWN}, "shut down", "sandbox"),
    ("line_down", {}, {"line_status": LineStatus.EMPTY}, "empty", "sandbox"),
    ("line_down", {}, {"line_status": LineStatus.ABNORMAL}, "abnormal", "sandbox"),
    ("virtual_number", {}, {"virtual": True}, "virtual", "sandbox"),
    ("recent_port_or_swap", {}, {"recent_port_or_swap": True}, "SIM swap", "sandbox"),
    (
        "short_tenure",
        {},
        {"tenure": Tenure.M3_TO_6, "checked_at": BOUND + timedelta(days=62)},
        "tenure 3–6 months on 2026-07-02, bound on 2026-05-01: under 4 months at binding",
        "sandbox",
    ),
    ("shared_number", {"other_borrowers": 3}, {}, "bound to 3 other borrowers", "desk"),
    ("shared_number", {"other_borrowers": 1}, {}, "bound to 1 other borrower", "desk"),
    ("repeated_rebinds", {"rebinds_90d": 2}, {}, "2 rebinds in the last 90 days", "desk"),
]


@pytest.mark.parametrize(("code", "known", "answers", "evidence", "source"), FIRING)
def test_each_signal_fires_on_its_evidence(policy, code, known, answers, evidence, source):
    assessment = assess(facts(**known), report(**answers), policy, at=AT)

    assert codes(assessment) == [code]
    [signal] = assessment.signals
    rule = getattr(policy.signals, code)
    assert signal.weight == rule.weight == assessment.score
    assert evidence in signal.evidence
    assert signal.source == source
    assert signal.explanation.endswith(".")
    assert assessment.assessed_at == AT
    assert assessment.policy == policy.label


def test_the_source_is_the_provider_that_answered(policy):
    assessment = assess(facts(), report(provider="aliyun", virtual=True), policy, at=AT)
    assert assessment.signals[0].source == "aliyun"


def test_all_unknown_answers_produce_no_signal(policy):
    assessment = assess(facts(), report(identity=IdentityMatch.UNKNOWN), policy, at=AT)
    assert assessment.signals == []
    assert (assessment.score, assessment.level, assessment.stop_contact) == (
        0,
        RiskLevel.LOW,
        False,
    )


@pytest.mark.parametrize(
    ("known", "answers"),
    [
        ({}, {"reassigned": Reassigned.NO}),
        ({}, {"identity": IdentityMatch.MATCH}),
        ({}, {"identity": IdentityMatch.NOT_FOUND}),
        ({}, {"line_status": LineStatus.NORMAL}),
        ({}, {"line_status": LineStatus.POWER_OFF}),
        ({}, {"line_status": LineStatus.BUSY}),
        ({}, {"virtual": False}),
        ({}, {"recent_port_or_swap": False, "ported": True}),
        ({}, {"tenure": Tenure.OVER_24M, "checked_at": BOUND}),
        ({"other_borrowers": 0}, {}),
        ({"rebinds_90d": 1}, {}),
    ],
)
def test_answers_that_are_no_evidence_produce_no_signal(policy, known, answers):
    assert assess(facts(**known), report(**answers), policy, at=AT).signals == []


def test_without_a_report_only_the_desks_signals_count(policy):
    assessment = assess(facts(other_borrowers=2, rebinds_90d=3), None, policy, at=AT)
    assert codes(assessment) == ["shared_number", "repeated_rebinds"]
    assert {signal.source for signal in assessment.signals} == {"desk"}
    assert (assessment.score, assessment.level) == (60, RiskLevel.HIGH)
    assert assess(facts(), None, policy, at=AT).score == 0


# --- reassigned: critical, stop contact --------------------------------------------------


def test_reassigned_makes_the_level_critical_and_stops_contact(policy):
    assessment = assess(
        facts(),
        report(reassigned=Reassigned.YES, line_status=LineStatus.NORMAL, virtual=True),
        policy,
        at=AT,
    )
    assert assessment.level is RiskLevel.CRITICAL
    assert assessment.stop_contact is True
    assert assessment.score == 100
    assert codes(assessment) == ["reassigned", "virtual_number"]
    assert assessment.signals[0].critical


def test_a_critical_signal_is_critical_whatever_its_weight(tmp_path):
    light = load_policy(write(tmp_path, "[signals.reassigned]\nweight = 10\n"))
    assessment = assess(facts(), report(reassigned=Reassigned.YES), light, at=AT)
    assert (assessment.score, assessment.level, assessment.stop_contact) == (
        10,
        RiskLevel.CRITICAL,
        True,
    )


def test_other_signals_never_stop_contact(policy):
    everything_but_reassigned = report(
        reassigned=Reassigned.CANCELLED,
        identity=IdentityMatch.MISMATCH,
        line_status=LineStatus.EMPTY,
        virtual=True,
    )
    assessment = assess(facts(other_borrowers=4), everything_but_reassigned, policy, at=AT)
    assert assessment.level is RiskLevel.CRITICAL
    assert assessment.stop_contact is False


def test_reassigned_since_a_date_before_the_binding_is_no_evidence(policy):
    earlier = IntelReport(
        provider="sandbox",
        checked_at=AT,
        reference_date=date(2026, 1, 1),
        reassigned=Reassigned.YES,
    )
    assert assess(facts(), earlier, policy, at=AT).signals == []


def test_reassigned_compares_the_reference_date_with_the_binding_day_in_utc(policy):
    # 02:00 in Beijing on 1 May is still 30 April in UTC: asking "since 30 April" covers it
    bound_in_beijing = BindingFacts(
        bound_at=datetime(2026, 5, 1, 2, 0, tzinfo=timezone(timedelta(hours=8)))
    )
    answer = IntelReport(
        provider="sandbox",
        checked_at=AT,
        reference_date=date(2026, 4, 30),
        reassigned=Reassigned.YES,
    )
    assessment = assess(bound_in_beijing, answer, policy, at=AT)
    assert assessment.stop_contact
    assert (
        assessment.signals[0].evidence
        == "re-issued to a new holder since the binding on 2026-04-30"
    )


# --- tenure at binding --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tenure", "checked_on", "under"),
    [
        (Tenure.UNDER_3M, date(2026, 5, 1), 3),
        (Tenure.M3_TO_6, date(2026, 5, 1), 6),
        (Tenure.M3_TO_6, date(2026, 7, 3), 4),  # 2 months after binding
        (Tenure.M6_TO_12, date(2026, 12, 1), 5),  # 7 months after: 0–5 at binding
        (Tenure.M12_TO_24, date(2027, 11, 1), 6),  # 18 months after: 0–6 at binding
        (Tenure.UNDER_3M, date(2026, 3, 1), 5),  # checked 2 months before binding
        (Tenure.M6_TO_12, date(2026, 8, 3), None),  # 3–9 months at binding: maybe not short
        (Tenure.M3_TO_6, date(2026, 3, 1), None),  # checked before binding: 5–8 at binding
        (Tenure.M6_TO_12, date(2026, 10, 31), None),  # 5 whole months, not 6: 1–7 at binding
        (Tenure.UNDER_3M, date(2026, 9, 1), None),  # held only since after the binding
        (Tenure.M3_TO_6, date(2026, 11, 1), None),  # held only since after the binding
        (Tenure.OVER_24M, date(2028, 5, 1), None),  # no upper edge
        (Tenure.UNKNOWN, date(2026, 5, 1), None),
    ],
)
def test_tenure_at_binding_is_derived_conservatively(policy, tenure, checked_on, under):
    checked_at = datetime.combine(checked_on, datetime.min.time(), UTC) + timedelta(hours=10)
    assessment = assess(facts(), report(tenure=tenure, checked_at=checked_at), policy, at=AT)
    if under is None:
        assert assessment.signals == []
    else:
        assert codes(assessment) == ["short_tenure"]
        assert assessment.signals[0].evidence.endswith(f"under {under} months at binding")
        assert assessment.signals[0].explanation == (
            "The number was under 6 months old with its holder when it was bound."
        )


def test_the_policy_sets_how_short_a_tenure_is(tmp_path):
    twelve = load_policy(write(tmp_path, "[signals.short_tenure]\nmonths = 12\n"))
    answer = report(tenure=Tenure.M6_TO_12, checked_at=BOUND + timedelta(days=40))
    assessment = assess(facts(), answer, twelve, at=AT)
    assert codes(assessment) == ["short_tenure"]
    assert "under 12 months old" in assessment.signals[0].explanation
    assert assess(facts(), answer, default_policy(), at=AT).signals == []


# --- score, cap, order, shape -------------------------------------------------------------


def test_the_score_is_capped_at_100_and_signals_come_strongest_first(policy):
    everything = report(
        reassigned=Reassigned.CANCELLED,
        identity=IdentityMatch.MISMATCH,
        line_status=LineStatus.EMPTY,
        virtual=True,
        recent_port_or_swap=True,
        carrier="China Mobile",
        tenure=Tenure.UNDER_3M,
        checked_at=BOUND,
    )
    assessment = assess(facts(other_borrowers=2, rebinds_90d=4), everything, policy, at=AT)
    assert sum(signal.weight for signal in assessment.signals) == 275
    assert assessment.score == 100
    assert codes(assessment) == [
        "identity_mismatch",
        "cancelled",
        "shared_number",
        "line_down",
        "virtual_number",
        "recent_port_or_swap",
        "repeated_rebinds",
        "short_tenure",
    ]
    assert "carrier now China Mobile" in assessment.signals[5].evidence


@pytest.mark.parametrize(
    ("known", "answers", "score", "level"),
    [
        ({}, {"tenure": Tenure.UNDER_3M, "checked_at": BOUND}, 20, RiskLevel.LOW),
        ({}, {"virtual": True}, 30, RiskLevel.MEDIUM),
        ({}, {"identity": IdentityMatch.MISMATCH}, 60, RiskLevel.HIGH),
        (
            {"other_borrowers": 2},
            {"virtual": True, "tenure": Tenure.UNDER_3M, "checked_at": BOUND},
            85,
            RiskLevel.CRITICAL,
        ),
        (
            {},
            {"reassigned": Reassigned.CANCELLED, "line_status": LineStatus.EMPTY},
            80,
            RiskLevel.HIGH,
        ),
    ],
)
def test_levels_follow_the_thresholds(policy, known, answers, score, level):
    assessment = assess(facts(**known), report(**answers), policy, at=AT)
    assert (assessment.score, assessment.level) == (score, level)


def test_an_assessment_survives_the_trip_through_json(policy):
    assessment = assess(
        facts(other_borrowers=2),
        report(reassigned=Reassigned.YES, virtual=True),
        policy,
        at=AT,
    )
    again = RiskAssessment.model_validate_json(assessment.model_dump_json())
    assert again == assessment
    assert again.model_dump() == assessment.model_dump()
    assert assessment.model_fields_set == set(RiskAssessment.model_fields)
    assert assessment.signals[0].model_fields_set == set(RiskSignal.model_fields)
    assert assessment.model_copy(update={"score": 5}).score == 5
    with pytest.raises(ValidationError):
        assessment.signals[0].weight = 0  # frozen: shared signals cannot be changed


def test_assessments_do_not_share_their_lists(policy):
    first = assess(facts(other_borrowers=2), None, policy, at=AT)
    second = assess(facts(other_borrowers=2), None, policy, at=AT)
    first.signals.clear()
    assert codes(second) == ["shared_number"]


def test_evidence_stays_right_past_the_shared_signal_cache(policy):
    for others in range(1, 5000):
        [signal] = assess(facts(other_borrowers=others), None, policy, at=AT).signals
        assert signal.evidence == f"bound to {others} other borrower{'s' if others > 1 else ''}"


# --- monotone: more evidence never lowers the score or the level ---------------------------

EVIDENCE_ADDED = {
    "reassigned": lambda r: r.reassigned in (Reassigned.UNKNOWN, Reassigned.NO),
    "identity": lambda r: r.identity != IdentityMatch.MISMATCH,
    "line_status": lambda r: r.line_status not in (LineStatus.SHUT_DOWN, LineStatus.EMPTY),
    "virtual": lambda r: r.virtual is not True,
    "recent_port_or_swap": lambda r: r.recent_port_or_swap is not True,
    "tenure": lambda r: r.tenure == Tenure.UNKNOWN,
}
RISKY_ANSWERS = {
    "reassigned": st.sampled_from([Reassigned.YES, Reassigned.CANCELLED]),
    "identity": st.just(IdentityMatch.MISMATCH),
    "line_status": st.sampled_from([LineStatus.SHUT_DOWN, LineStatus.EMPTY]),
    "virtual": st.just(True),
    "recent_port_or_swap": st.just(True),
    "tenure": st.sampled_from([Tenure.UNDER_3M, Tenure.M3_TO_6, Tenure.M6_TO_12]),
}

reports = st.builds(
    IntelReport,
    provider=st.sampled_from(["sandbox", "aliyun", "twilio"]),
    checked_at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    ),
    reference_date=st.dates(min_value=date(2026, 4, 1), max_value=date(2026, 6, 1)),
    line_status=st.sampled_from(list(LineStatus)),
    tenure=st.sampled_from(list(Tenure)),
    reassigned=st.sampled_from(list(Reassigned)),
    virtual=st.sampled_from([None, False, True]),
    recent_port_or_swap=st.sampled_from([None, False, True]),
    identity=st.sampled_from([None, *IdentityMatch]),
)
binding_facts = st.builds(
    BindingFacts,
    bound_at=st.datetimes(
        min_value=datetime(2026, 4, 1), max_value=datetime(2026, 6, 1), timezones=st.just(UTC)
    ),
    other_borrowers=st.integers(0, 6),
    rebinds_90d=st.integers(0, 6),
)


@st.composite
def policies(draw) -> RiskPolicy:
    weights = {code: {"weight": draw(st.integers(0, 100))} for code in SIGNAL_CODES}
    medium, high, critical = sorted(draw(st.sets(st.integers(1, 100), min_size=3, max_size=3)))
    table = {"levels": {"medium": medium, "high": high, "critical": critical}, "signals": weights}
    return RiskPolicy.model_validate(merge_tables(default_policy().model_dump(), table))


@settings(max_examples=300, deadline=None)
@given(
    policy=st.one_of(st.just(default_policy()), policies()),
    known=binding_facts,
    answer=st.one_of(st.none(), reports),
    data=st.data(),
)
def test_adding_evidence_never_lowers_the_score_or_the_level(policy, known, answer, data):
    before = assess(known, answer, policy, at=AT)

    more_others = data.draw(st.integers(0, 3))
    more_rebinds = data.draw(st.integers(0, 3))
    worse_facts = known.model_copy(
        update={
            "other_borrowers": known.other_borrowers + more_others,
            "rebinds_90d": known.rebinds_90d + more_rebinds,
        }
    )
    if answer is None:
        # a first report can only add signals to the desk's own
        worse_answer = data.draw(st.one_of(st.none(), reports))
    else:
        field = data.draw(st.sampled_from(sorted(EVIDENCE_ADDED)))
        if EVIDENCE_ADDED[field](answer):
            answer_update = {field: data.draw(RISKY_ANSWERS[field])}
            worse_answer = answer.model_copy(update=answer_update)
        else:
            worse_answer = answer
    after = assess(worse_facts, worse_answer, policy, at=AT)

    assert after.score >= before.score
    assert LEVEL_ORDER.index(after.level) >= LEVEL_ORDER.index(before.level)
    assert set(codes(before)) <= set(codes(after))
    assert after.stop_contact or not before.stop_contact
    for assessment in (before, after):
        assert assessment.score == min(100, sum(s.weight for s in assessment.signals))
        assert 0 <= assessment.score <= 100


# --- an installation's policy file ---------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "risk.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_override_changes_weights_and_thresholds_and_keeps_the_rest(tmp_path, policy):
    custom = load_policy(
        write(
            tmp_path,
            'name = "bank-a"\n'
            "[levels]\nhigh = 50\n"
            "[signals.virtual_number]\nweight = 55\n"
            '[signals.line_down]\nstatuses = ["empty"]\n',
        )
    )
    assessment = assess(facts(), report(virtual=True), custom, at=AT)
    assert (assessment.score, assessment.level) == (55, RiskLevel.HIGH)
    assert assessment.policy.startswith("bank-a/1#")
    assert assess(facts(), report(line_status=LineStatus.SHUT_DOWN), custom, at=AT).signals == []

    changed = custom.model_dump()
    expected = policy.model_dump()
    expected["name"] = "bank-a"
    expected["levels"]["high"] = 50
    expected["signals"]["virtual_number"]["weight"] = 55
    expected["signals"]["line_down"]["statuses"] = ["empty"]
    assert changed == expected


def test_a_partial_override_keeps_every_other_default(tmp_path, policy):
    custom = load_policy(write(tmp_path, "[signals.shared_number]\nweight = 40\n"))
    assert custom.signals.shared_number.weight == 40
    assert custom.signals.shared_number.min_other_borrowers == 1
    assert custom.levels == policy.levels
    assert custom.signals.model_dump(exclude={"shared_number"}) == policy.signals.model_dump(
        exclude={"shared_number"}
    )
    # same name, other weights: the label still tells the two apart
    assert custom.name == policy.name
    assert custom.label != policy.label
    assert assess(facts(other_borrowers=1), None, custom, at=AT).score == 40


def test_a_disabled_signal_is_never_produced(tmp_path):
    quiet = load_policy(write(tmp_path, "[signals.virtual_number]\nenabled = false\n"))
    assessment = assess(
        facts(), report(virtual=True, identity=IdentityMatch.MISMATCH), quiet, at=AT
    )
    assert codes(assessment) == ["identity_mismatch"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[signals.virtual_number]\nweight = 150\n", "signals.virtual_number.weight"),
        ('[signals.virtual_number]\nweight = "high"\n', "signals.virtual_number.weight"),
        ("[signals.virtual_numbr]\nweight = 10\n", "signals.virtual_numbr"),
        ("[signals.short_tenure]\nmonth = 6\n", "signals.short_tenure.month"),
        ("[levels]\nhigh = 20\n", "levels"),
        ('[signals.line_down]\nstatuses = ["unknown"]\n', "signals.line_down.statuses"),
        ('[signals.line_down]\nstatuses = ["gone"]\n', "signals.line_down.statuses.0"),
        ("version = 0\n", "version"),
    ],
)
def test_an_invalid_policy_file_names_the_key(tmp_path, text, names):
    path = write(tmp_path, text)
    with pytest.raises(RiskPolicyError) as error:
        load_policy(path)
    message = str(error.value)
    assert f"invalid risk policy {path}" in message
    assert f"{names}:" in message
    assert isinstance(error.value, ValueError)


def test_a_file_that_is_not_toml_or_not_there_says_so(tmp_path):
    with pytest.raises(RiskPolicyError, match="is not valid TOML"):
        load_policy(write(tmp_path, "[signals.virtual_number\nweight = 1\n"))
    with pytest.raises(RiskPolicyError, match="cannot read risk policy .*missing.toml"):
        load_policy(tmp_path / "missing.toml")
