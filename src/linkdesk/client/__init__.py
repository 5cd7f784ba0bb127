"""The desk client: how the console and the CLI reach a desk."""

from linkdesk.client.desk import DeskClient
from linkdesk.client.errors import (
    CaseClosed,
    Conflict,
    DeskError,
    DeskStartRefused,
    DeskUnavailable,
    Forbidden,
    NotFound,
    ProblemError,
    RateLimited,
    StaleVersion,
    Unauthorized,
    Undecryptable,
    ValidationFailed,
)

__all__ = [
    "CaseClosed",
    "Conflict",
    "DeskClient",
    "DeskError",
    "DeskStartRefused",
    "DeskUnavailable",
    "Forbidden",
    "NotFound",
    "ProblemError",
    "RateLimited",
    "StaleVersion",
    "Unauthorized",
    "Undecryptable",
    "ValidationFailed",
]
