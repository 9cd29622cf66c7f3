"""The identity service's one clock, so there is a single place to move time in tests."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, tz-aware."""
    return datetime.now(UTC)
