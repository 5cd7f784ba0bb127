"""The risk policy: each signal's weight and the scores at which the levels start.

The packaged default is ``linkdesk/policies/risk.toml``. An installation overrides it
with a TOML file of its own (the server passes its path from settings): the file is
merged over the default table by table, so a partial file changes only what it names.
A file that does not validate raises :class:`RiskPolicyError` naming the key.

Reading the policy file is the only I/O in the domain; it happens when a desk starts,
never while scoring.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from linkdesk.domain import policy_files
from linkdesk.domain.intel import LineStatus
from linkdesk.domain.policy_files import merge_tables

__all__ = ["RiskPolicy", "RiskPolicyError", "default_policy", "load_policy", "merge_tables"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class RiskPolicyError(ValueError):
    """A policy file that cannot be read or does not validate; the message names the
    file and the offending keys (``signals.line_down.weight: …``)."""


class LevelThresholds(BaseModel):
    """The score at which each level starts; below ``medium`` is low."""

    model_config = _FROZEN

    medium: int = Field(ge=1, le=100)
    high: int = Field(ge=1, le=100)
    critical: int = Field(ge=1, le=100)

    @model_validator(mode="after")
    def _increasing(self) -> LevelThresholds:
        if not self.medium < self.high < self.critical:
            raise ValueError(
                "the levels must start in order medium < high < critical, got "
                f"{self.medium}, {self.high}, {self.critical}"
            )
        return self


class SignalRule(BaseModel):
    model_config = _FROZEN

    weight: int = Field(ge=0, le=100)
    """Points the signal adds to the score (the sum is capped at 100)."""
    critical: bool = False
    """A critical signal makes the level critical and stops contact, whatever the score."""
    enabled: bool = True
    """A disabled signal is never produced; a weight of 0 still explains, without points."""


class ShortTenureRule(SignalRule):
    months: int = Field(ge=1, le=120)
    """Fires when the number had been with its holder for under this many months at
    binding (carriers answer in buckets with edges at 3, 6, 12 and 24 months)."""


class LineDownRule(SignalRule):
    statuses: frozenset[LineStatus]
    """The line statuses that count as down."""

    @field_validator("statuses")
    @classmethod
    def _answers_only(cls, statuses: frozenset[LineStatus]) -> frozenset[LineStatus]:
        wrong = statuses & {LineStatus.NORMAL, LineStatus.UNKNOWN}
        if wrong:
            names = ", ".join(sorted(wrong))
            raise ValueError(f"{names} cannot count as down: unknown is no evidence")
        return statuses

    @field_serializer("statuses")
    def _sorted(self, statuses: frozenset[LineStatus]) -> list[str]:
        return sorted(statuses)


class SharedNumberRule(SignalRule):
    min_other_borrowers: int = Field(ge=1)


class RepeatedRebindsRule(SignalRule):
    min_rebinds: int = Field(ge=1)
    """Rebinds in the 90 days before the assessment that count as repeated."""


class SignalRules(BaseModel):
    model_config = _FROZEN

    reassigned: SignalRule
    identity_mismatch: SignalRule
    cancelled: SignalRule
    shared_number: SharedNumberRule
    line_down: LineDownRule
    virtual_number: SignalRule
    recent_port_or_swap: SignalRule
    repeated_rebinds: RepeatedRebindsRule
    short_tenure: ShortTenureRule


class RiskPolicy(BaseModel):
    model_config = _FROZEN

    name: str = Field(min_length=1, max_length=80)
    version: int = Field(ge=1)
    levels: LevelThresholds
    signals: SignalRules

    @property
    def label(self) -> str:
        """``default/1#3f2a9c1e``: name, version and a digest of the content, so that an
        assessment records exactly which weights produced it."""
        return policy_files.label(self, self.name, self.version)


@cache
def default_policy() -> RiskPolicy:
    """The packaged policy, ``linkdesk/policies/risk.toml``."""
    return _validate(policy_files.packaged_table("risk.toml"), "the packaged risk policy")


def load_policy(path: Path | None = None) -> RiskPolicy:
    """The default policy, or ``path`` merged over it. Raises :class:`RiskPolicyError`."""
    if path is None:
        return default_policy()
    override = policy_files.read_table(path, "risk policy", RiskPolicyError)
    return _validate(merge_tables(policy_files.packaged_table("risk.toml"), override), f"risk policy {path}")


def _validate(table: Mapping[str, Any], what: str) -> RiskPolicy:
    return policy_files.validate(RiskPolicy, table, what, RiskPolicyError)
