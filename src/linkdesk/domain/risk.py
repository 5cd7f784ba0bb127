"""The explainable risk engine: what a binding's facts and its intel say, as a score.

:func:`assess` turns the desk's facts about a binding (:class:`BindingFacts`) and the
latest :class:`~linkdesk.domain.intel.IntelReport` into a :class:`RiskAssessment`: a
score 0–100, a level, and every :class:`RiskSignal` that produced it, each with a
stable ``code`` (the console translates by it), a short English explanation, the
evidence and its source (the provider, or ``desk`` for the desk's own facts).

Rules:

* The score is the sum of the weights of the signals present, capped at 100; the
  level comes from the policy's thresholds. A critical signal (by default only
  ``reassigned``) makes the level critical and sets ``stop_contact``, whatever the
  score. Adding a signal never lowers the score or the level.
* Unknown is no evidence: an unknown answer, a ``None`` and a three-element
  ``not_found`` produce no signal. Without a report only the desk's signals count.
* ``reassigned`` counts only when the report's reference date is on or after the
  binding's day (UTC): "re-issued since an earlier date" may mean before the borrower
  bound it. The desk asks about the binding's date.
* ``short_tenure`` — tenure *at binding*. A report gives the tenure bucket as of its
  check; at binding the number had been held for (bucket − time since binding). The
  time since binding is counted in whole calendar months, rounded down, so the upper
  edge at binding is never underestimated: the signal fires only when that upper edge
  is within the policy's months (checked 2 months after binding in the 3–6 months
  bucket → under 4 months at binding: fires; 6–12 months checked 3 months after →
  3–9 months at binding: may have been 6 or more, no signal). When the whole bucket
  lies after the binding, the number changed holder since (or its tenure was reset):
  that is not a tenure at binding, so no signal; ``reassigned`` is the check for it.

Speed: a desk re-scores every binding whenever intel is refreshed (target 200,000 a
second on one core, ``benchmarks/risk.py``). The policy is compiled once per policy
object, signals whose evidence repeats are shared (they are frozen), and the models
are built without re-validating values this module computed itself.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from linkdesk.domain.intel import IdentityMatch, IntelReport, LineStatus, Reassigned, Tenure
from linkdesk.domain.risk_policy import (
    RiskPolicy,
    RiskPolicyError,
    default_policy,
    load_policy,
    merge_tables,
)

__all__ = [
    "DESK_SOURCE",
    "EXPLANATIONS",
    "SIGNAL_CODES",
    "BindingFacts",
    "RiskAssessment",
    "RiskLevel",
    "RiskPolicy",
    "RiskPolicyError",
    "RiskSignal",
    "assess",
    "default_policy",
    "load_policy",
    "merge_tables",
]

DESK_SOURCE = "desk"
"""The source of the signals that come from the desk's own records."""


class RiskLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class RiskSignal(BaseModel):
    """One reason in an assessment."""

    model_config = ConfigDict(frozen=True)

    code: str
    """Stable: ``reassigned``, ``short_tenure``… (see :data:`SIGNAL_CODES`)."""
    weight: int
    critical: bool
    explanation: str
    """What it means, in a short English sentence."""
    evidence: str
    """The facts that produced it, e.g. ``bound to 3 other borrowers``."""
    source: str
    """The provider that answered, or ``desk``."""


class RiskAssessment(BaseModel):
    model_config = ConfigDict(frozen=True)

    score: int = Field(ge=0, le=100)
    level: RiskLevel
    signals: list[RiskSignal]
    """Strongest first: critical ones, then by weight."""
    stop_contact: bool
    """A critical signal: the number must not be called or messaged any more."""
    assessed_at: datetime
    policy: str
    """The policy's label, ``name/version#digest``."""


class BindingFacts(BaseModel):
    """What the desk itself knows about a binding."""

    model_config = ConfigDict(frozen=True)

    bound_at: datetime
    other_borrowers: int = Field(default=0, ge=0)
    """Other borrowers with an active binding of the same number (blind index)."""
    rebinds_90d: int = Field(default=0, ge=0)
    """This borrower's rebinds in the 90 days before the assessment."""


SIGNAL_CODES: tuple[str, ...] = (
    "reassigned",
    "identity_mismatch",
    "cancelled",
    "shared_number",
    "line_down",
    "virtual_number",
    "recent_port_or_swap",
    "repeated_rebinds",
    "short_tenure",
)

EXPLANATIONS: dict[str, str] = {
    "reassigned": (
        "The number was re-issued to someone else after the borrower bound it: stop contacting it."
    ),
    "identity_mismatch": "The number is not registered to the borrower's name and ID number.",
    "cancelled": "The number was cancelled; it may soon be re-issued to someone else.",
    "shared_number": "Other borrowers are bound to the same number.",
    "line_down": "The line is out of service: the borrower cannot be reached on it.",
    "virtual_number": "It is a virtual or privacy number, not a real-name SIM.",
    "recent_port_or_swap": (
        "The number was recently ported or its SIM swapped, a common step in account takeover."
    ),
    "repeated_rebinds": "The borrower has changed their bound number repeatedly in 90 days.",
    "short_tenure": "The number was under {months} months old with its holder when it was bound.",
}

_LINE_STATUS_WORDS = {
    LineStatus.SHUT_DOWN: "shut down (停机)",
    LineStatus.EMPTY: "empty, not in service (空号)",
    LineStatus.ABNORMAL: "abnormal (异常)",
    LineStatus.POWER_OFF: "powered off",
    LineStatus.BUSY: "busy",
}

# bucket → (words, upper edge in months); the open-ended bucket can never be "short"
_TENURE_BUCKETS = {
    Tenure.UNDER_3M: ("under 3 months", 3),
    Tenure.M3_TO_6: ("3–6 months", 6),
    Tenure.M6_TO_12: ("6–12 months", 12),
    Tenure.M12_TO_24: ("12–24 months", 24),
}

_SHARED_CACHE_LIMIT = 4096

# Enum members read once: in Python 3.11 ``Reassigned.YES`` costs more than the compare.
_REASSIGNED = Reassigned.YES
_CANCELLED = Reassigned.CANCELLED
_MISMATCH = IdentityMatch.MISMATCH
_CRITICAL = RiskLevel.CRITICAL
_HIGH = RiskLevel.HIGH
_MEDIUM = RiskLevel.MEDIUM
_LOW = RiskLevel.LOW


class _Compiled:
    """A policy flattened for :func:`assess`, built once per policy object."""

    __slots__ = (
        "critical_from",
        "high_from",
        "label",
        "line_down",
        "medium_from",
        "min_other_borrowers",
        "min_rebinds",
        "rank",
        "rules",
        "shared",
        "templates",
        "tenure_months",
    )

    def __init__(self, policy: RiskPolicy) -> None:
        rules = policy.signals
        self.label = policy.label
        self.medium_from = policy.levels.medium
        self.high_from = policy.levels.high
        self.critical_from = policy.levels.critical
        self.tenure_months = rules.short_tenure.months
        self.line_down = rules.line_down.statuses
        self.min_other_borrowers = rules.shared_number.min_other_borrowers
        self.min_rebinds = rules.repeated_rebinds.min_rebinds
        explanations = dict(EXPLANATIONS)
        explanations["short_tenure"] = explanations["short_tenure"].format(
            months=self.tenure_months
        )
        self.rules: dict[str, tuple[int, bool]] = {}
        """The enabled signals: code → (weight, critical)."""
        self.templates: dict[str, dict[str, Any]] = {}
        """Each enabled signal's fixed fields, in field order; evidence and source follow."""
        for code in SIGNAL_CODES:
            rule = getattr(rules, code)
            if rule.enabled:
                self.rules[code] = (rule.weight, rule.critical)
                self.templates[code] = {
                    "code": code,
                    "weight": rule.weight,
                    "critical": rule.critical,
                    "explanation": explanations[code],
                }
        ordered = sorted(
            self.rules, key=lambda code: (not self.rules[code][1], -self.rules[code][0])
        )
        self.rank = {code: position for position, code in enumerate(ordered)}
        self.shared: dict[tuple[Any, ...], RiskSignal] = {}
        """Signals whose evidence repeats across bindings; frozen, so shared."""

    def signal(self, code: str, evidence: str, source: str) -> RiskSignal:
        values = self.templates[code].copy()
        values["evidence"] = evidence
        values["source"] = source
        return _build(RiskSignal, values)

    def shared_signal(self, key: tuple[Any, ...]) -> RiskSignal:
        """The signal for ``key`` = (code, source, facts…), built on first use and then
        shared: frozen signals with the same facts are the same signal. Only for
        evidence with few variants (no dates), so the cache stays small and warm."""
        signal = self.shared.get(key)
        if signal is None:
            if len(self.shared) >= _SHARED_CACHE_LIMIT:
                self.shared.clear()
            signal = self.shared[key] = self.signal(key[0], _evidence(key), key[1])
        return signal


def _evidence(key: tuple[Any, ...]) -> str:
    match key:
        case ("identity_mismatch", _):
            return "three-element check (name, ID number, number): mismatch"
        case ("line_down", _, status):
            return f"line status: {_LINE_STATUS_WORDS.get(status, str(status))}"
        case ("virtual_number", _):
            return "reported as a virtual or privacy number"
        case ("recent_port_or_swap", _, carrier):
            return "a recent port or SIM swap" + (f" (carrier now {carrier})" if carrier else "")
        case ("shared_number", _, others):
            return f"bound to {others} other borrower{'s' if others != 1 else ''}"
        case ("repeated_rebinds", _, rebinds):
            return f"{rebinds} rebinds in the last 90 days"
    raise AssertionError(f"no evidence for {key!r}")


_compiled_policies: dict[int, tuple[RiskPolicy, _Compiled]] = {}


def _compile(policy: RiskPolicy) -> _Compiled:
    entry = _compiled_policies.get(id(policy))
    if entry is not None and entry[0] is policy:
        return entry[1]
    if len(_compiled_policies) >= 64:
        _compiled_policies.clear()
    compiled = _Compiled(policy)
    _compiled_policies[id(policy)] = (policy, compiled)
    return compiled


# Building the models: what ``model_construct`` does for a model without extras or
# private attributes, minus its per-field loop, which in pydantic 2.14 makes it slower
# than full validation (5.5 µs vs 2.3 µs a signal here). Every value is ours, already
# of the field's type. BaseModel keeps these four in slots; their descriptors are
# called directly (each set costs half an ``object.__setattr__``).
# ``tests/unit/test_risk.py`` checks the result against validated models.
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_ASSESSMENT_FIELDS = set(RiskAssessment.model_fields)
_FIELDS = {RiskSignal: set(RiskSignal.model_fields), RiskAssessment: _ASSESSMENT_FIELDS}


def _build(cls: type[BaseModel], values: dict[str, Any]) -> Any:
    model = _new(cls)
    _set_dict(model, values)
    _set_fields_set(model, _FIELDS[cls].copy())  # a set of its own, as pydantic gives
    _set_extra(model, None)
    _set_private(model, None)
    return model


def _utc_day(moment: datetime) -> date:
    """The day in UTC (a naive time is taken as UTC already)."""
    zone = moment.tzinfo
    if zone is None or zone is UTC:
        return moment.date()
    return moment.astimezone(UTC).date()


def _whole_months(start: date, end: date) -> int:
    """Calendar months from ``start`` to ``end``, rounded down (negative if before)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def assess(
    facts: BindingFacts, report: IntelReport | None, policy: RiskPolicy, *, at: datetime
) -> RiskAssessment:
    """Score one binding from the desk's facts and the latest intel (``None``: none yet)."""
    entry = _compiled_policies.get(id(policy))
    compiled = entry[1] if entry is not None and entry[0] is policy else _compile(policy)
    rules = compiled.rules
    shared = compiled.shared_signal
    signals: list[RiskSignal] = []

    if report is not None:
        source = report.provider
        answer = report.reassigned
        if answer == _REASSIGNED:
            bound_day = _utc_day(facts.bound_at)
            since = report.reference_date
            if since >= bound_day and "reassigned" in rules:
                evidence = (
                    f"re-issued to a new holder since the binding on {since.isoformat()}"
                    if since == bound_day
                    else f"re-issued to a new holder since {since.isoformat()} "
                    f"(bound on {bound_day.isoformat()})"
                )
                signals.append(compiled.signal("reassigned", evidence, source))
        elif answer == _CANCELLED and "cancelled" in rules:
            evidence = f"cancelled since {report.reference_date.isoformat()} and not re-issued"
            signals.append(compiled.signal("cancelled", evidence, source))
        if report.identity == _MISMATCH and "identity_mismatch" in rules:
            signals.append(shared(("identity_mismatch", source)))
        status = report.line_status
        if status in compiled.line_down and "line_down" in rules:
            signals.append(shared(("line_down", source, status)))
        if report.virtual is True and "virtual_number" in rules:
            signals.append(shared(("virtual_number", source)))
        if report.recent_port_or_swap is True and "recent_port_or_swap" in rules:
            signals.append(shared(("recent_port_or_swap", source, report.carrier)))
        bucket = _TENURE_BUCKETS.get(report.tenure)
        if bucket is not None and "short_tenure" in rules:
            checked_day = _utc_day(report.checked_at)
            bound_day = _utc_day(facts.bound_at)
            upper = bucket[1] - _whole_months(bound_day, checked_day)
            if 0 < upper <= compiled.tenure_months:
                evidence = (
                    f"tenure {bucket[0]} on {checked_day.isoformat()}, "
                    f"bound on {bound_day.isoformat()}: "
                    f"under {upper} months at binding"
                )
                signals.append(compiled.signal("short_tenure", evidence, source))

    others = facts.other_borrowers
    if others >= compiled.min_other_borrowers and "shared_number" in rules:
        signals.append(shared(("shared_number", DESK_SOURCE, others)))
    rebinds = facts.rebinds_90d
    if rebinds >= compiled.min_rebinds and "repeated_rebinds" in rules:
        signals.append(shared(("repeated_rebinds", DESK_SOURCE, rebinds)))

    total = 0
    critical = False
    for found in signals:
        total += found.weight
        critical = critical or found.critical
    score = min(100, total)
    if critical or score >= compiled.critical_from:
        level = _CRITICAL
    elif score >= compiled.high_from:
        level = _HIGH
    elif score >= compiled.medium_from:
        level = _MEDIUM
    else:
        level = _LOW
    if len(signals) > 1:
        rank = compiled.rank
        signals.sort(key=lambda found: rank[found.code])
    assessment = _new(RiskAssessment)  # _build, inlined: one call fewer per binding
    _set_dict(
        assessment,
        {
            "score": score,
            "level": level,
            "signals": signals,
            "stop_contact": critical,
            "assessed_at": at,
            "policy": compiled.label,
        },
    )
    _set_fields_set(assessment, _ASSESSMENT_FIELDS.copy())
    _set_extra(assessment, None)
    _set_private(assessment, None)
    return assessment


def __getattr__(name: str) -> RiskPolicy:
    # ``DEFAULT_POLICY`` is read from the packaged file on first use, not at import.
    if name == "DEFAULT_POLICY":
        return default_policy()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
