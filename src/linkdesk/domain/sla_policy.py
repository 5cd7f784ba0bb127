"""The SLA policy: targets per category and priority, the working hours, the privacy limit.

The packaged default is ``linkdesk/policies/sla.toml``. An installation overrides it
with a TOML file of its own (``LINKDESK_SLA_POLICY``; the server passes its path from
settings): the file is merged over the default table by table, so a partial file
changes only what it names. A file that does not validate raises
:class:`SlaPolicyError` naming the key.

Reading the policy file is the only I/O here; it happens when a desk starts, never
while computing a due date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from linkdesk.domain import policy_files
from linkdesk.domain.business_calendar import BusinessCalendar, calendar_for
from linkdesk.domain.cases import CaseCategory, Priority
from linkdesk.domain.policy_files import merge_tables

_FROZEN = ConfigDict(frozen=True, extra="forbid")

__all__ = ["SlaPolicy", "SlaPolicyError", "Targets", "default_policy", "load_policy", "merge_tables"]


class SlaPolicyError(ValueError):
    """A policy file that cannot be read or does not validate; the message names the
    file and the offending keys (``priorities.high.resolution_hours: …``)."""


Hours = float


class CalendarRule(BaseModel):
    model_config = _FROZEN

    time_zone: str = "Asia/Shanghai"
    work_start: time
    work_end: time

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> CalendarRule:
        if not self.work_start < self.work_end:
            raise ValueError(f"work_end ({self.work_end}) must be after work_start ({self.work_start})")
        return self


class UrgencyRule(BaseModel):
    model_config = _FROZEN

    soon_hours: Hours = Field(gt=0, le=1000)
    """Business hours before a due date from which a case shows as due soon."""


class PrivacyRule(BaseModel):
    model_config = _FROZEN

    working_days: int = Field(ge=1, le=60)


class Target(BaseModel):
    model_config = _FROZEN

    first_response_hours: Hours = Field(gt=0, le=10_000)
    resolution_hours: Hours = Field(gt=0, le=10_000)


class TargetOverride(BaseModel):
    model_config = _FROZEN

    first_response_hours: Hours | None = Field(default=None, gt=0, le=10_000)
    resolution_hours: Hours | None = Field(default=None, gt=0, le=10_000)


class PriorityTargets(BaseModel):
    model_config = _FROZEN

    urgent: Target
    high: Target
    normal: Target
    low: Target


class Targets(BaseModel):
    """The two targets of one category and priority, as business time."""

    model_config = ConfigDict(frozen=True)

    first_response: timedelta
    resolution: timedelta | None
    """None: the resolution is due after a number of working days instead (privacy)."""


class SlaPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    version: int = Field(ge=1)
    calendar: CalendarRule
    urgency: UrgencyRule
    privacy_request: PrivacyRule
    priorities: PriorityTargets
    categories: dict[CaseCategory, dict[Priority, TargetOverride]] = Field(default_factory=dict)

    @cached_property
    def business_calendar(self) -> BusinessCalendar:
        return calendar_for(self.calendar.work_start, self.calendar.work_end, self.calendar.time_zone)

    @cached_property
    def _targets(self) -> dict[tuple[str, str], Targets]:
        table = {}
        for category in CaseCategory:
            for priority in Priority:
                base: Target = getattr(self.priorities, str(priority))
                override = self.categories.get(category, {}).get(priority, TargetOverride())
                first = override.first_response_hours or base.first_response_hours
                resolution = override.resolution_hours or base.resolution_hours
                table[str(category), str(priority)] = Targets(
                    first_response=timedelta(hours=first),
                    resolution=None if category is CaseCategory.PRIVACY_REQUEST else timedelta(hours=resolution),
                )
        return table

    def targets(self, category: CaseCategory | str, priority: Priority | str) -> Targets:
        try:
            return self._targets[str(category), str(priority)]
        except KeyError:
            raise ValueError(f"no SLA target for {category}/{priority}") from None

    @property
    def soon(self) -> timedelta:
        return timedelta(hours=self.urgency.soon_hours)

    @property
    def label(self) -> str:
        """``default/1#3f2a9c1e``: name, version and a digest of the content."""
        return policy_files.label(self, self.name, self.version)


@cache
def default_policy() -> SlaPolicy:
    """The packaged policy, ``linkdesk/policies/sla.toml``."""
    return _validate(policy_files.packaged_table("sla.toml"), "the packaged SLA policy")


def load_policy(path: Path | None = None) -> SlaPolicy:
    """The default policy, or ``path`` merged over it. Raises :class:`SlaPolicyError`."""
    if path is None:
        return default_policy()
    override = policy_files.read_table(path, "SLA policy", SlaPolicyError)
    return _validate(merge_tables(policy_files.packaged_table("sla.toml"), override), f"SLA policy {path}")


def _validate(table: Mapping[str, Any], what: str) -> SlaPolicy:
    return policy_files.validate(SlaPolicy, table, what, SlaPolicyError)
