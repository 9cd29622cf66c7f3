"""Which reminder is due: the smallest offset whose moment has passed, never a burst."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.survey_mail import due_offset

CLOSES = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
INVITED = CLOSES - timedelta(days=30)
OFFSETS = (14, 7, 1)


@pytest.mark.parametrize(
    ("before_close", "expected"),
    [
        (timedelta(days=20), None),
        (timedelta(days=14, seconds=1), None),
        (timedelta(days=14), 14),
        (timedelta(days=8), 14),
        (timedelta(days=7), 7),
        (timedelta(days=1), 1),
        (timedelta(minutes=5), 1),
    ],
)
def test_the_smallest_passed_offset_is_due(before_close: timedelta, expected: int | None) -> None:
    assert due_offset(CLOSES - before_close, CLOSES, INVITED, OFFSETS) == expected


def test_a_jump_past_every_moment_gives_only_the_last_reminder() -> None:
    assert due_offset(CLOSES - timedelta(hours=2), CLOSES, INVITED, OFFSETS) == 1


def test_no_reminder_whose_moment_passed_before_the_invitation() -> None:
    invited_late = CLOSES - timedelta(days=10)

    assert due_offset(CLOSES - timedelta(days=9), CLOSES, invited_late, OFFSETS) is None
    assert due_offset(CLOSES - timedelta(days=7), CLOSES, invited_late, OFFSETS) == 7


def test_offsets_setting_is_sorted_deduplicated_and_positive() -> None:
    settings = NotifierSettings(reminder_offsets_days=(1, 14, 7, 7))

    assert settings.reminder_offsets_days == (14, 7, 1)
    with pytest.raises(ValueError, match="positive"):
        NotifierSettings(reminder_offsets_days=(7, 0))
