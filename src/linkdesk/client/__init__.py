"""The desk client: how the console and the CLI reach a desk."""

from linkdesk.client.desk import DeskClient
from linkdesk.client.errors import (
    Conflict,
    DeskError,
    DeskUnavailable,
    NotFound,
    ProblemError,
    StaleVersion,
    ValidationFailed,
)

__all__ = [
    "Conflict",
    "DeskClient",
    "DeskError",
    "DeskUnavailable",
    "NotFound",
    "ProblemError",
    "StaleVersion",
    "ValidationFailed",
]
