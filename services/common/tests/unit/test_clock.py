from datetime import UTC, datetime, timedelta

import pytest

from bibmon_common.clock import (
    FileOffsetClock,
    FrozenClock,
    SystemClock,
    clock_from_settings,
    write_clock_offset,
)
from bibmon_common.settings import ServiceSettings


def test_frozen_clock_moves_only_when_told() -> None:
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    clock = FrozenClock(start)
    assert clock.now() == start
    clock.advance(timedelta(days=7))
    assert clock.now() == start + timedelta(days=7)
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 1, 1))


def test_file_offset_clock_follows_the_file(tmp_path) -> None:
    path = tmp_path / "clock-offset"
    clock = FileOffsetClock(str(path))
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 1  # no file: no offset
    write_clock_offset(str(path), timedelta(days=13))
    assert abs((clock.now() - datetime.now(UTC)) - timedelta(days=13)) < timedelta(seconds=1)
    write_clock_offset(str(path), timedelta(days=-2, hours=1))
    assert abs((clock.now() - datetime.now(UTC)) - timedelta(days=-2, hours=1)) < timedelta(
        seconds=1
    )


def test_settings_pick_the_clock_and_production_refuses_a_test_clock(tmp_path) -> None:
    assert isinstance(clock_from_settings(ServiceSettings()), SystemClock)
    with_file = ServiceSettings(clock_offset_file=str(tmp_path / "offset"))
    assert isinstance(clock_from_settings(with_file), FileOffsetClock)
    with pytest.raises(ValueError, match="refused in production"):
        ServiceSettings(
            environment="production",
            service_token_secret="a-real-secret-of-enough-length-0123456789",
            clock_offset_file=str(tmp_path / "offset"),
        )
