"""The rebind policy: which factor sets may complete, which need a supervisor, and why."""

from __future__ import annotations

import pytest

from linkdesk.domain.rebind import ApprovalTrigger, FactorKind, Facts, Outcome, decide

K = FactorKind
CLEAN = Facts(risk_score=20, high_from=60)


@pytest.mark.parametrize(
    ("records", "outcome", "groups"),
    [
        ([], Outcome.INSUFFICIENT, []),
        ([(K.OTP_NEW, True)], Outcome.INSUFFICIENT, ["new_number"]),
        # three-element and the new number's code rest on the same number: one group
        ([(K.THREE_ELEMENT, True), (K.OTP_NEW, True)], Outcome.INSUFFICIENT, ["new_number"]),
        # nothing shows the new number is the borrower's
        ([(K.ID_DOCUMENT, True), (K.VIDEO, True), (K.OTP_OLD, True)], Outcome.INSUFFICIENT,
         ["old_number", "id_document", "video"]),
        ([(K.OTP_NEW, True), (K.ID_DOCUMENT, True)], Outcome.ALLOWED, ["new_number", "id_document"]),
        ([(K.THREE_ELEMENT, True), (K.OTP_OLD, True)], Outcome.ALLOWED, ["new_number", "old_number"]),
        ([(K.OTP_NEW, True), (K.BANK_CARD, False)], Outcome.INSUFFICIENT, ["new_number"]),
        # the latest record of a kind counts: a failed code then a confirmed one passes
        ([(K.OTP_NEW, False), (K.OTP_NEW, True), (K.VIDEO, True)], Outcome.ALLOWED, ["new_number", "video"]),
        ([(K.OTP_NEW, True), (K.VIDEO, True), (K.VIDEO, False)], Outcome.INSUFFICIENT, ["new_number"]),
    ],
)
def test_factor_sets(records: list[tuple[FactorKind, bool]], outcome: Outcome, groups: list[str]) -> None:
    decision = decide(records, CLEAN)
    assert decision.outcome is outcome
    assert [str(g) for g in decision.groups] == groups
    assert bool(decision.missing) == (outcome is Outcome.INSUFFICIENT)


def test_missing_reasons_name_what_to_add() -> None:
    only_new = decide([(K.OTP_NEW, True), (K.THREE_ELEMENT, True)], CLEAN)
    assert only_new.missing == [(
        "no factor independent of the new number: a code to the old number, an ID document, "
        "a bank card or a video check must pass"
    )]
    only_old = decide([(K.OTP_OLD, True)], CLEAN)
    assert only_old.missing[0].startswith("the new number is not verified")


ENOUGH = [(K.OTP_NEW, True), (K.ID_DOCUMENT, True)]


@pytest.mark.parametrize(
    ("facts", "records", "triggers"),
    [
        (Facts(risk_score=59, high_from=60), ENOUGH, []),
        (Facts(risk_score=60, high_from=60), ENOUGH, [ApprovalTrigger.HIGH_RISK]),
        (Facts(risk_score=None), ENOUGH, []),
        (Facts(bound_elsewhere=True), ENOUGH, [ApprovalTrigger.BOUND_ELSEWHERE]),
        (Facts(rebinds_90d=1), ENOUGH, [ApprovalTrigger.REPEATED_REBIND]),
        (Facts(), [*ENOUGH, (K.THREE_ELEMENT, False)], [ApprovalTrigger.IDENTITY_MISMATCH]),
        (Facts(risk_score=90, bound_elsewhere=True, rebinds_90d=2), ENOUGH,
         [ApprovalTrigger.HIGH_RISK, ApprovalTrigger.BOUND_ELSEWHERE, ApprovalTrigger.REPEATED_REBIND]),
    ],
)
def test_approval_triggers(facts: Facts, records: list[tuple[FactorKind, bool]],
                           triggers: list[ApprovalTrigger]) -> None:
    decision = decide(records, facts)
    assert decision.approval == triggers
    assert decision.outcome is (Outcome.NEEDS_APPROVAL if triggers else Outcome.ALLOWED)


def test_triggers_are_listed_while_factors_are_still_missing() -> None:
    decision = decide([(K.OTP_NEW, True)], Facts(bound_elsewhere=True))
    assert decision.outcome is Outcome.INSUFFICIENT and decision.approval == [ApprovalTrigger.BOUND_ELSEWHERE]
