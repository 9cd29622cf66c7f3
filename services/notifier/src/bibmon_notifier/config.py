"""Settings of the notifier service (env prefix `BIBMON_NOTIFIER_`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from bibmon_common.settings import ServiceSettings

Locale = Literal["nl", "en"]


class NotifierSettings(ServiceSettings):
    """Everything the notifier needs: SMTP relay, addresses, retry schedule, retention."""

    model_config = SettingsConfigDict(
        env_prefix="BIBMON_NOTIFIER_", extra="ignore", validate_default=True
    )

    database_url: str = "postgresql://postgres@127.0.0.1:5432/bibmon_notifier"

    # SMTP relay. Development default: the mail catcher of `make run` on port 8025.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    # STARTTLS upgrade on a plain connection (port 587) ...
    smtp_starttls: bool = False
    # ... or TLS from the first byte (port 465, RFC 8314). Never both.
    smtp_implicit_tls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 30.0
    # Validate the relay's certificate; only ever switched off against a local test relay.
    smtp_validate_certs: bool = True

    from_address: str = "noreply@bibliotheekmonitor.nl"
    from_name: str = "Bibliotheekmonitor"
    support_address: str = "support@bibliotheekmonitor.nl"
    default_locale: Locale = "nl"

    # Sender worker: delays between attempts after a temporary SMTP failure; after the
    # last one the e-mail is `failed`.
    retry_delays_seconds: tuple[float, ...] = (30, 120, 600, 3600, 6 * 3600)
    poll_interval_seconds: float = 1.0
    # While the relay takes an e-mail it is leased, not locked: due again only after this
    # long, which only matters when the sender died before it could record the outcome.
    send_lease_seconds: float = Field(default=600.0, ge=60)
    sender_concurrency: int = Field(default=4, ge=1, le=64)
    # Failed e-mails keep their recipient this long so a kb_admin can retry them after
    # fixing the relay; then the address is purged like any other (AVG art. 5(1)(e)).
    failed_recipient_retention_hours: float = 7 * 24
    # Delivery metadata (no personal data) is kept 90 days.
    job_retention_days: int = 90
    retention_interval_seconds: float = 3600.0

    # Identity's internal API, which answers a survey's contact person at send time
    # (GET /internal/identity/surveys/{survey_id}/contacts/{organisation_id}/recipient).
    # Not behind the gateway. Its service token is signed with `identity_token_secret`,
    # the same value as identity's BIBMON_IDENTITY_RECIPIENT_TOKEN_SECRET and held by
    # those two services only (not the `service_token_secret` every service has).
    # Production refuses the development default (it contains "development").
    identity_url: str = "http://127.0.0.1:8101"
    identity_token_secret: SecretStr = SecretStr("development-only-recipient-token-secret")
    identity_timeout_seconds: float = Field(default=10.0, gt=0)

    # Survey reminders: days before the deadline, and how often the scheduler looks.
    reminder_offsets_days: tuple[int, ...] = (14, 7, 1)
    reminder_poll_seconds: float = Field(default=60.0, gt=0)
    # A receipt confirms a submission just made: a submission older than this when its
    # event is handled (seeded demo data, a very late replay) gets no receipt. A week
    # covers any outage that operators fix by replaying a parking queue.
    receipt_max_age_hours: float = Field(default=7 * 24.0, gt=0)

    @field_validator("reminder_offsets_days")
    @classmethod
    def _positive_distinct_offsets(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d <= 0 for d in value):
            raise ValueError("reminder offsets are positive numbers of days")
        return tuple(sorted(set(value), reverse=True))

    @model_validator(mode="after")
    def _one_tls_mode(self) -> NotifierSettings:
        if self.smtp_starttls and self.smtp_implicit_tls:
            raise ValueError("choose either smtp_starttls or smtp_implicit_tls, not both")
        return self

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> NotifierSettings:
        # The SMTP timeout counts per step (connect, EHLO, TLS, AUTH, MAIL, RCPT, DATA).
        if self.send_lease_seconds < 4 * self.smtp_timeout_seconds + 30:
            raise ValueError(
                "send_lease_seconds must be at least 4 × smtp_timeout_seconds + 30 s,"
                " so a slow relay's conversation ends well within the lease"
            )
        return self

    @property
    def max_attempts(self) -> int:
        """Attempts before an e-mail is `failed`: the first plus one per retry delay."""
        return len(self.retry_delays_seconds) + 1
