"""The reminder settings (the rule itself is tested against the database: test_survey_mail)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bibmon_notifier.config import NotifierSettings


def test_offsets_setting_is_sorted_deduplicated_and_positive() -> None:
    settings = NotifierSettings(reminder_offsets_days=(1, 14, 7, 7))

    assert settings.reminder_offsets_days == (14, 7, 1)
    with pytest.raises(ValueError, match="positive"):
        NotifierSettings(reminder_offsets_days=(7, 0))


def test_defaults_are_14_7_1_days_and_a_minute() -> None:
    settings = NotifierSettings()

    assert settings.reminder_offsets_days == (14, 7, 1)
    assert settings.reminder_poll_seconds == 60
    assert settings.identity_url == "http://127.0.0.1:8101"


def test_the_send_lease_must_outlast_a_slow_relays_conversation() -> None:
    NotifierSettings(smtp_timeout_seconds=30, send_lease_seconds=150)
    with pytest.raises(ValidationError, match="send_lease_seconds"):
        NotifierSettings(smtp_timeout_seconds=60, send_lease_seconds=200)
