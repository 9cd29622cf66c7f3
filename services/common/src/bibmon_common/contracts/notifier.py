"""Messages consumed and produced by the notifier service.

`SendEmail` is the only contract allowed to carry personal data (the recipient), so it
is a Command, consumed only by the notifier, which purges the address after delivery.
The notifier's own events name the subject by `user_id` only.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, EmailStr, Field

from bibmon_common.events import Command, Event, register

EmailTemplate = Literal[
    "account_request_received",
    "account_welcome",
    "account_rejected",
    "password_reset",
    "password_changed",
    "account_locked",
    "email_changed",
    # Survey e-mails: the notifier creates these itself from surveys' and responses'
    # events and resolves the recipient (the contact person) with identity at send time.
    "survey_invitation",
    "survey_reminder",
    "response_receipt",
    "response_returned",
    # From reporting's reporting.report.ready.v1.
    "report_ready",
]


@register
class SendEmail(Command):
    """Ask the notifier to send one templated e-mail.

    Sent by identity (account requests, welcome and reset links, security notices). A
    consumer may rely on: the same `idempotency_key` is sent at most once; a command
    whose `expires_at` has passed is dropped, never sent (a stale reset link is worse
    than none). Template contexts: account_welcome {set_password_url, username,
    organisation_name, expires_hours}; account_rejected {reason}; password_reset
    {reset_url, expires_minutes}; account_locked {locked_minutes,
    locked_from_one_address?}; the others none (email_changed goes to the old address and
    names neither address).
    """

    type: ClassVar[str] = "notifier.send_email.v1"

    idempotency_key: str = Field(min_length=1, max_length=200)
    template: EmailTemplate
    locale: str = "nl"
    recipient_email: EmailStr
    recipient_name: str = ""
    # Null when the recipient has no account yet (account_request_received).
    subject_user_id: UUID | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    expires_at: AwareDatetime | None = None


@register
class EmailSent(Event):
    """Sent when the mail server accepted an e-mail of a `SendEmail` command.

    A consumer may rely on: `email_id` is the notifier's delivery id, unique per
    command; acceptance by the server is not proof of reading.
    """

    type: ClassVar[str] = "notifier.email.sent.v1"

    email_id: UUID
    template: str
    subject_user_id: UUID | None = None


@register
class EmailFailed(Event):
    """Sent when the notifier gives up on an e-mail (permanent refusal or retries exhausted).

    A consumer may rely on: no further attempt is made for this `email_id`.
    """

    type: ClassVar[str] = "notifier.email.failed.v1"

    email_id: UUID
    template: str
    subject_user_id: UUID | None = None
