"""The desk's own settings: limits that an administrator changes for everyone."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class DeskPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    reveal_limit_per_hour: int = Field(default=20, ge=1, le=1000)
    """Reveals one agent may make in any hour; more answer 429 until the hour rolls on."""
    reveal_display_seconds: int = Field(default=30, ge=5, le=300)
    """How long the console shows a revealed value before masking it again."""
    contact_timezone: str = "Asia/Shanghai"
    """The local time of the collection rules (quiet hours 22:00–08:00, calls per day)."""


class DeskPolicyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reveal_limit_per_hour: int | None = Field(default=None, ge=1, le=1000, strict=True)
    reveal_display_seconds: int | None = Field(default=None, ge=5, le=300, strict=True)
    contact_timezone: str | None = Field(default=None, max_length=64)

    @field_validator("contact_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            from linkdesk.domain.contact_rules import zone

            zone(value)  # ValueError: unknown time zone
        return value
