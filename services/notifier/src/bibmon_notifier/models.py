"""What the notifier's use cases return: e-mails as operators see them, and delivery state.

`EmailOut` and `EmailList` are the API's response models as they are; `DueEmail` is the
e-mail the sender claimed, with its recipient, for one delivery attempt (never returned).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel

# `no_recipient`: a survey e-mail whose organisation has no contact person and no primary
# contact in identity; a kb_admin may register one and retry it.
Status = Literal["pending", "sent", "failed", "expired", "no_recipient"]


class EmailOut(BaseModel):
    """An e-mail job as operators see it: what, when, how it went; never to whom."""

    id: UUID
    template: str
    locale: str
    status: Status
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    expires_at: datetime | None
    # Survey e-mails name their recipient by survey and organisation (never an address).
    survey_id: UUID | None = None
    organisation_id: UUID | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> EmailOut:
        """From a row of the repository's public columns."""
        return cls.model_validate(dict(row))


class EmailList(BaseModel):
    """A page of e-mails, newest first; pass `next_before` as `before` for the next page."""

    items: list[EmailOut]
    next_before: datetime | None


@dataclass(frozen=True)
class DueEmail:
    """An e-mail claimed for delivery: its row, locked for this attempt's transaction.

    A survey e-mail has no address: `survey_id` and `organisation_id` name its recipient,
    whom identity answers at send time.
    """

    email_id: UUID
    template: str
    locale: str
    recipient_email: str | None
    recipient_name: str | None
    subject_user_id: UUID | None
    context: dict[str, Any]
    # Attempts before this one.
    attempts: int
    created_at: datetime
    expires_at: datetime | None
    survey_id: UUID | None
    organisation_id: UUID | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> DueEmail:
        """From the row `repository.claim_due_email` locked."""
        return cls(
            email_id=row["id"],
            template=row["template"],
            locale=row["locale"],
            recipient_email=row["recipient_email"],
            recipient_name=row["recipient_name"],
            subject_user_id=row["subject_user_id"],
            context=dict(row["context"] or {}),
            attempts=row["attempts"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            survey_id=row["recipient_survey_id"],
            organisation_id=row["recipient_organisation_id"],
        )

    def __repr__(self) -> str:
        # Keep the address and the context (links, names) out of tracebacks and logs.
        return f"DueEmail(email_id={self.email_id}, template={self.template})"


@dataclass(frozen=True)
class Retention:
    """What one retention run forgot: failed e-mails' recipients, and old e-mails."""

    recipients_purged: int
    emails_deleted: int


@dataclass(frozen=True)
class DeliveryState:
    """E-mails waiting, the age of the oldest waiting one, and failed e-mails (/metrics)."""

    waiting: int
    oldest_waiting_seconds: float
    failed: int
