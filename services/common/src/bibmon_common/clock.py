"""One injectable clock per service, so tests (and the e2e suite) can move time.

Every rule that depends on "now" (a survey opens or closes, a reminder is due, a
response may still be submitted) asks `deps.now()` (the service's `ServiceDeps.clock`)
instead of `datetime.now()`; the clock is chosen when the app is created.

- `SystemClock`: the server's clock (production).
- `FrozenClock`: a clock a unit test sets and advances by hand.
- `FileOffsetClock`: the server's clock plus an offset in seconds read from a file. The
  e2e suite writes the file to move the clock of every running service process at once.
  Enabled with `BIBMON_<SVC>_CLOCK_OFFSET_FILE`; refused in production (see settings).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, tz-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FrozenClock:
    """A clock that only moves when told to."""

    current: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.current = when


class FileOffsetClock:
    """System time plus the number of seconds written in `path` (missing or empty: 0)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: int | None = None
        self._offset = 0.0

    def offset_seconds(self) -> float:
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            self._stamp, self._offset = None, 0.0
            return 0.0
        if stamp != self._stamp:
            with open(self.path, encoding="utf-8") as fh:
                text = fh.read().strip()
            self._offset = float(text) if text else 0.0
            self._stamp = stamp
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset_seconds())


def write_clock_offset(path: str, offset: timedelta) -> None:
    """Move every FileOffsetClock reading `path` (atomically: write, then rename)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(f"{offset.total_seconds():.3f}\n")
    os.replace(tmp, path)


def clock_from_settings(settings: object) -> Clock:
    """The clock a service runs on: a file offset when configured, else the system clock."""
    path = getattr(settings, "clock_offset_file", None)
    return FileOffsetClock(path) if path else SystemClock()
