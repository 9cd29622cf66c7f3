"""The MIME message: multipart/alternative, stable Message-ID, safe headers."""

from __future__ import annotations

import uuid
from email import message_from_bytes, policy

import pytest
from pydantic import ValidationError

from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.mail import DeliveryError, build_message, scrub_addresses
from bibmon_notifier.rendering import Renderer, normalise_locale


def _settings(**kwargs: object) -> NotifierSettings:
    return NotifierSettings(
        from_address="noreply@bibliotheekmonitor.test",
        support_address="support@bibliotheekmonitor.test",
        **kwargs,  # type: ignore[arg-type]
    )


def _message(name: str | None = "Jan de Vries") -> bytes:
    settings = _settings()
    rendered = Renderer(support_address=settings.support_address).render(
        "password_changed", "nl", {}, recipient_name=name
    )
    msg = build_message(
        rendered,
        email_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
        recipient_email="jan@example.nl",
        recipient_name=name,
        settings=settings,
    )
    return msg.as_bytes()


def test_message_is_multipart_alternative_with_text_first() -> None:
    msg = message_from_bytes(_message(), policy=policy.default)

    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]  # type: ignore[attr-defined]
    assert parts == ["text/plain", "text/html"]
    assert "Jan de Vries" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_message_has_date_message_id_and_auto_submitted() -> None:
    msg = message_from_bytes(_message(), policy=policy.default)

    assert msg["Message-ID"] == "<00000000-0000-4000-8000-000000000001@bibliotheekmonitor.test>"
    assert msg["Date"]
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Content-Language"] == "nl"
    assert str(msg["From"]) == "Bibliotheekmonitor <noreply@bibliotheekmonitor.test>"
    assert msg["To"].addresses[0].display_name == "Jan de Vries"
    assert msg["To"].addresses[0].addr_spec == "jan@example.nl"


def test_a_name_cannot_inject_headers() -> None:
    raw = _message("Eve\r\nBcc: victim@example.nl")

    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None
    assert msg["To"].addresses[0].addr_spec == "jan@example.nl"


def test_delivery_errors_never_carry_addresses() -> None:
    error = DeliveryError("550 5.1.1 <jan@example.nl>: Recipient unknown", permanent=True)

    assert "jan@example.nl" not in str(error)
    assert scrub_addresses("to a.b@c.nl and x@y.org") == "to <address> and <address>"


def test_starttls_and_implicit_tls_exclude_each_other() -> None:
    with pytest.raises(ValidationError):
        _settings(smtp_starttls=True, smtp_implicit_tls=True)


def test_settings_come_from_bibmon_notifier_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIBMON_NOTIFIER_SMTP_HOST", "smtp.kb.test")
    monkeypatch.setenv("BIBMON_NOTIFIER_SMTP_PORT", "587")
    monkeypatch.setenv("BIBMON_NOTIFIER_SMTP_STARTTLS", "true")
    monkeypatch.setenv("BIBMON_NOTIFIER_RETRY_DELAYS_SECONDS", "[1, 2]")

    settings = NotifierSettings()

    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == (
        "smtp.kb.test",
        587,
        True,
    )
    assert settings.max_attempts == 3


@pytest.mark.parametrize(
    ("given", "expected"),
    [("nl", "nl"), ("en-GB", "en"), ("nl_BE", "nl"), ("de", "nl"), ("", "nl")],
)
def test_locale_falls_back_to_dutch(given: str, expected: str) -> None:
    assert normalise_locale(given, "nl") == expected
