"""The sender's work: one attempt at a due e-mail, in named steps; and retention.

    deliver_next
      └ claim the due e-mail (locked)  →  _expire_if_late
                                       →  _address        (survey e-mails: ask identity)
                                       →  _compose        (render, build the MIME message)
                                       →  _send           (hand it to the relay)
                                       →  _after_failure  (retry later, or give up)

Every outcome is written in the claim's transaction, with its event in the outbox.
"""

from __future__ import annotations

import email.errors
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import structlog

from bibmon_common import metrics
from bibmon_common.background import advisory_xact_lock
from bibmon_notifier import repository
from bibmon_notifier.deps import NotifierDeps
from bibmon_notifier.mail import DeliveryError, build_message
from bibmon_notifier.models import DueEmail, Retention
from bibmon_notifier.recipients import Recipient, RecipientUnavailable
from bibmon_notifier.rendering import TemplateError, normalise_locale
from bibmon_notifier.repository import Conn
from bibmon_notifier.usecases.outcome import emit_failed, emit_sent, short_error
from bibmon_notifier.usecases.survey_mail import still_wanted

log = structlog.get_logger(__name__)


@dataclass
class _Attempt:
    """One delivery attempt: the claimed e-mail and whom it goes to this time.

    A survey e-mail's recipient is asked from identity for this attempt only: the address
    is never written to the e-mail's row.
    """

    email: DueEmail
    log: Any  # the logger bound to this e-mail (never to its address)
    user_id: UUID | None
    recipient_email: str | None
    recipient_name: str | None
    locale: str

    @classmethod
    def of(cls, email: DueEmail) -> _Attempt:
        bound = log.bind(
            email_id=str(email.email_id), template=email.template, attempt=email.attempts + 1
        )
        return cls(
            email=email,
            log=bound,
            user_id=email.subject_user_id,
            recipient_email=email.recipient_email,
            recipient_name=email.recipient_name,
            locale=email.locale,
        )

    def __repr__(self) -> str:
        return f"_Attempt({self.email!r})"


async def deliver_next(deps: NotifierDeps) -> bool:
    """Deliver one due e-mail; False when none was due.

    The row stays locked (FOR UPDATE SKIP LOCKED) while the relay is talking, so
    replicas never send the same e-mail twice; a crash before commit means one more
    attempt, which the stable Message-ID lets the relay recognise.
    """
    async with deps.transaction() as conn:
        due = await repository.claim_due_email(conn)
        if due is None:
            return False
        await _deliver(deps, conn, _Attempt.of(due))
        return True


async def _deliver(deps: NotifierDeps, conn: Conn, attempt: _Attempt) -> None:
    if await _expire_if_late(deps, conn, attempt):
        return
    if not await _address(deps, conn, attempt):
        return
    message = await _compose(deps, conn, attempt)
    if message is not None:
        await _send(deps, conn, attempt, message)


async def _expire_if_late(deps: NotifierDeps, conn: Conn, attempt: _Attempt) -> bool:
    """An e-mail past its `expires_at` (its link no longer works) is never sent."""
    email_ = attempt.email
    # Real time, like the link's own expiry (never the movable test clock).
    if email_.expires_at is None or email_.expires_at > datetime.now(UTC):
        return False
    await repository.mark_expired(conn, email_.email_id, "expired before it could be delivered")
    await emit_failed(deps, conn, email_.email_id, email_.template, email_.subject_user_id)
    metrics.EMAILS_FAILED.labels(email_.template).inc()
    attempt.log.warning("email.expired")
    return True


async def _address(deps: NotifierDeps, conn: Conn, attempt: _Attempt) -> bool:
    """Whom the e-mail goes to; a survey e-mail asks identity. False when settled here."""
    email_ = attempt.email
    if email_.organisation_id is None:
        return True  # the command named its recipient
    attempt.log = attempt.log.bind(
        survey_id=str(email_.survey_id), organisation_id=str(email_.organisation_id)
    )
    try:
        recipient = await _survey_recipient(deps, conn, attempt)
    except DeliveryError as exc:
        await _after_failure(deps, conn, attempt, exc)
        return False
    if recipient is None:
        return False
    attempt.user_id = recipient.user_id
    attempt.recipient_email = recipient.email
    attempt.recipient_name = recipient.name or None
    attempt.locale = normalise_locale(recipient.locale, deps.settings.default_locale)
    await repository.set_resolved_recipient(
        conn, email_.email_id, recipient.user_id, attempt.locale
    )
    attempt.log = attempt.log.bind(user_id=str(recipient.user_id), source=recipient.source)
    return True


async def _survey_recipient(deps: NotifierDeps, conn: Conn, attempt: _Attempt) -> Recipient | None:
    """The survey e-mail's current contact person; None when the e-mail is settled."""
    email_ = attempt.email
    # The table's check: a survey e-mail names both its survey and its organisation.
    assert email_.survey_id is not None
    assert email_.organisation_id is not None
    reason = await still_wanted(conn, email_, deps.now())
    if reason is not None:
        await repository.mark_expired(conn, email_.email_id, reason)
        await emit_failed(deps, conn, email_.email_id, email_.template, None)
        attempt.log.info("email.no_longer_wanted", reason=reason)
        return None
    try:
        recipient = await deps.recipients.survey_contact(email_.survey_id, email_.organisation_id)
    except RecipientUnavailable as exc:
        raise DeliveryError(str(exc), permanent=False) from exc
    if recipient is None:
        await repository.mark_no_recipient(
            conn,
            email_.email_id,
            "no contact person and no primary contact for the organisation",
        )
        await emit_failed(deps, conn, email_.email_id, email_.template, None)
        metrics.EMAILS_FAILED.labels(email_.template).inc()
        attempt.log.warning("email.no_recipient")
    return recipient


async def _compose(deps: NotifierDeps, conn: Conn, attempt: _Attempt) -> EmailMessage | None:
    """Render the template and build the message; one that cannot be built has failed."""
    email_ = attempt.email
    try:
        if attempt.recipient_email is None:
            raise ValueError("the e-mail has no recipient")
        rendered = deps.renderer.render(
            email_.template,
            attempt.locale,
            email_.context,
            recipient_name=attempt.recipient_name,
            occurred_at=email_.created_at,
        )
        return build_message(
            rendered,
            email_id=email_.email_id,
            recipient_email=attempt.recipient_email,
            recipient_name=attempt.recipient_name,
            settings=deps.settings,
        )
    except (TemplateError, ValueError, TypeError, email.errors.MessageError) as exc:
        error = short_error(str(exc))
        await repository.mark_failed(conn, email_.email_id, error, keep_recipient=False)
        await emit_failed(deps, conn, email_.email_id, email_.template, attempt.user_id)
        metrics.EMAILS_FAILED.labels(email_.template).inc()
        attempt.log.error("email.render_failed", error=error)
        return None


async def _send(deps: NotifierDeps, conn: Conn, attempt: _Attempt, message: EmailMessage) -> None:
    """Hand the message to the relay; sent, or what to do after its failure."""
    email_ = attempt.email
    try:
        await deps.sender.send(message)
    except DeliveryError as exc:
        await _after_failure(deps, conn, attempt, exc)
        return
    await repository.mark_sent(conn, email_.email_id)
    await emit_sent(deps, conn, email_.email_id, email_.template, attempt.user_id)
    metrics.EMAILS_SENT.labels(email_.template).inc()
    attempt.log.info("email.sent")


async def _after_failure(
    deps: NotifierDeps, conn: Conn, attempt: _Attempt, exc: DeliveryError
) -> None:
    """Retry after the next delay of the schedule, or give up (permanent, or exhausted)."""
    email_, settings = attempt.email, deps.settings
    error = short_error(str(exc))
    attempts = email_.attempts + 1
    if exc.permanent or attempts >= settings.max_attempts:
        # A refused address will not improve by retrying; an exhausted schedule (relay
        # down) may, after an operator fixed the relay, so that recipient is kept a while.
        keep = not exc.permanent and settings.failed_recipient_retention_hours > 0
        await repository.mark_failed(conn, email_.email_id, error, keep_recipient=keep)
        await emit_failed(deps, conn, email_.email_id, email_.template, attempt.user_id)
        metrics.EMAILS_FAILED.labels(email_.template).inc()
        attempt.log.error("email.failed", error=error, permanent=exc.permanent)
        return
    delay = settings.retry_delays_seconds[attempts - 1]
    await repository.schedule_retry(conn, email_.email_id, error, delay)
    metrics.EMAILS_RETRIED.labels(email_.template).inc()
    attempt.log.warning("email.retry_scheduled", error=error, retry_in=delay)


async def purge(deps: NotifierDeps) -> Retention:
    """Retention: failed e-mails' recipients after the grace period, rows after 90 days.

    One replica at a time: another that finds the purge running skips its tick.
    """
    settings = deps.settings
    async with deps.transaction() as conn:
        if not await advisory_xact_lock(conn, "notifier.retention"):
            return Retention(recipients_purged=0, emails_deleted=0)
        purged = await repository.purge_failed_recipients(
            conn, settings.failed_recipient_retention_hours * 3600
        )
        deleted = await repository.delete_old_jobs(conn, settings.job_retention_days)
    if purged or deleted:
        log.info("email.retention", recipients_purged=purged, jobs_deleted=deleted)
    return Retention(recipients_purged=purged, emails_deleted=deleted)
