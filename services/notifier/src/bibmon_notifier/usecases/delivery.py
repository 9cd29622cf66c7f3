"""The sender's work: one attempt at a due e-mail, in named steps; and retention.

    deliver_next
      ├ transaction 1: claim the due e-mail (locked)  →  _expire_if_late
      │                                               →  _address  (survey e-mails: identity)
      │                                               →  _compose  (render, build the MIME)
      │                                               →  lease it, commit
      ├ _send: hand it to the relay (no transaction open)
      └ transaction 2: _record the outcome under the lease  →  sent, or _after_failure
                       (retried while the database is away)

Every outcome is written with its event in the outbox. The relay is never talked to
inside a transaction: a database restart while the relay takes the message would roll
back the "sent" and send the e-mail again. The lease (`send_lease_seconds`) keeps the
e-mail from other senders meanwhile and makes it due again only if this sender died
before it could record the outcome; that one resend keeps its Message-ID.
"""

from __future__ import annotations

import asyncio
import email.errors
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from bibmon_common import metrics
from bibmon_common.background import advisory_xact_lock
from bibmon_common.errors import DATABASE_LOST
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

# What the outcome's transaction meets while PostgreSQL restarts: retried, not given up.
# A fast shutdown or a terminated backend while a statement runs raises
# OperatorInterventionError (57P01 AdminShutdownError, 57P02 CrashShutdownError). A pooled
# connection whose backend was just ended may be handed out before asyncpg has seen the
# socket close: it has read the server's FATAL message and waits for a ReadyForQuery that
# never comes, so the next statement fails with InternalClientError ("cannot switch to
# state 15; another operation (2) is in progress"). Seen in CI: given up, the outcome
# left the e-mail leased, to be sent a second time when the lease ended.
_DATABASE_AWAY: tuple[type[Exception], ...] = (
    *DATABASE_LOST,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InternalClientError,
)
# The outcome is retried until this long before the lease ends (then another sender may
# take the e-mail over).
_LEASE_MARGIN_SECONDS = 30.0


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
    leased: datetime | None = None  # the lease this attempt holds while the relay talks
    # Until when (time.monotonic) the outcome may still be written: shortly before the
    # lease ends, after which another sender may take the e-mail over.
    record_until: float = 0.0

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

    The claim (FOR UPDATE SKIP LOCKED, then a lease) hands each e-mail to one sender,
    across replicas; the outcome is recorded once the relay has answered.
    """
    async with deps.transaction() as conn:
        due = await repository.claim_due_email(conn)
        if due is None:
            return False
        attempt = _Attempt.of(due)
        message = await _prepare(deps, conn, attempt)
        if message is None:
            return True  # settled in this transaction
        attempt.leased = await repository.lease(
            conn, due.email_id, deps.settings.send_lease_seconds
        )
    attempt.record_until = (
        time.monotonic() + deps.settings.send_lease_seconds - _LEASE_MARGIN_SECONDS
    )
    failure = await _send(deps, attempt, message)
    await _record(deps, attempt, failure)
    return True


async def _prepare(deps: NotifierDeps, conn: Conn, attempt: _Attempt) -> EmailMessage | None:
    """The message to send; None when the e-mail was settled (expired, failed, retry)."""
    if await _expire_if_late(deps, conn, attempt):
        return None
    if not await _address(deps, conn, attempt):
        return None
    return await _compose(deps, conn, attempt)


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


async def _send(
    deps: NotifierDeps, attempt: _Attempt, message: EmailMessage
) -> DeliveryError | None:
    """Hand the message to the relay; None when it took it, else why not.

    The relay's timeout counts per SMTP step; the whole conversation must also end before
    the lease does, or another sender would take the e-mail over while this one talks.
    """
    try:
        async with asyncio.timeout(attempt.record_until - time.monotonic()):
            await deps.sender.send(message)
    except DeliveryError as exc:
        return exc
    except TimeoutError:
        return DeliveryError("the relay took longer than the send lease", permanent=False)
    return None


async def _record(deps: NotifierDeps, attempt: _Attempt, failure: DeliveryError | None) -> None:
    """Write the relay's answer under the lease; while the database is away, try again.

    Giving up here (the process stops, or the lease nearly ran out) leaves the e-mail
    leased: it is due again when the lease ends, and sent once more with its Message-ID.
    """
    email_ = attempt.email
    assert attempt.leased is not None  # deliver_next leased it before sending
    delay = 0.2
    while True:
        try:
            async with deps.transaction() as conn:
                if not await repository.hold_lease(conn, email_.email_id, attempt.leased):
                    attempt.log.warning("email.lease_lost", relay_took_it=failure is None)
                    return
                if failure is None:
                    await repository.mark_sent(conn, email_.email_id)
                    await emit_sent(deps, conn, email_.email_id, email_.template, attempt.user_id)
                else:
                    await _after_failure(deps, conn, attempt, failure)
        except _DATABASE_AWAY as exc:
            if time.monotonic() + delay >= attempt.record_until:
                attempt.log.error("email.outcome_unrecorded", error=type(exc).__name__)
                raise
            attempt.log.warning(
                "email.outcome_retry", error=type(exc).__name__, retry_in=round(delay, 1)
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        if failure is None:
            metrics.EMAILS_SENT.labels(email_.template).inc()
            attempt.log.info("email.sent")
        return


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
