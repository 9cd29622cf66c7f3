"""Use cases of the notifier; the only place a transaction is opened."""

from __future__ import annotations

import email.errors
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from bibmon_common import metrics
from bibmon_common.background import advisory_xact_lock
from bibmon_common.clock import Clock, SystemClock
from bibmon_common.contracts.notifier import EmailFailed, EmailSent, SendEmail
from bibmon_common.errors import Conflict, NotFound
from bibmon_common.messaging.outbox import enqueue
from bibmon_notifier import repository, survey_mail
from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.mail import DeliveryError, SmtpSender, build_message, scrub_addresses
from bibmon_notifier.recipients import IdentityClient, Recipient, RecipientUnavailable
from bibmon_notifier.rendering import LOCALES, Renderer, TemplateError, validate
from bibmon_notifier.repository import Conn

log = structlog.get_logger(__name__)

SOURCE = "bibmon-notifier"
SYSTEM_CLOCK = SystemClock()
MAX_ERROR_LENGTH = 500


def normalise_locale(locale: str, default: str) -> str:
    """`nl`, `nl-NL`, `nl_BE` → `nl`; anything we have no texts for → the default."""
    language = locale.replace("_", "-").split("-")[0].strip().lower()
    return language if language in LOCALES else default


def _short(error: str) -> str:
    return scrub_addresses(error)[:MAX_ERROR_LENGTH]


async def _enqueue(conn: Conn, message: EmailSent | EmailFailed) -> None:
    await enqueue(conn, message, source=SOURCE)


async def _emit_failed(conn: Conn, job_id: UUID, template: str, user: Any) -> None:
    await _enqueue(conn, EmailFailed(email_id=job_id, template=template, subject_user_id=user))


async def accept_send_email(
    conn: Conn, command: SendEmail, settings: NotifierSettings
) -> UUID | None:
    """Record a send_email command as a job (inside the consumer's transaction).

    Returns the new job id, or None when the idempotency key was seen before. A command
    that is already expired or can never be rendered is recorded without its recipient,
    so operators see it, and is never sent.
    """
    job_id = uuid.uuid4()
    locale = normalise_locale(command.locale, settings.default_locale)
    status, error = "pending", None
    if command.expires_at is not None and command.expires_at <= datetime.now(UTC):
        status, error = "expired", "expired before it was accepted"
    else:
        try:
            validate(command.template, locale, command.context)
        except TemplateError as exc:
            status, error = "failed", _short(str(exc))
    keep = status == "pending"
    inserted = await repository.insert_job(
        conn,
        id=job_id,
        idempotency_key=command.idempotency_key,
        template=command.template,
        locale=locale,
        recipient_email=str(command.recipient_email) if keep else None,
        recipient_name=(command.recipient_name or None) if keep else None,
        subject_user_id=command.subject_user_id,
        context=dict(command.context) if keep else None,
        status=status,
        expires_at=command.expires_at,
        last_error=error,
    )
    if not inserted:
        log.info("email.duplicate_command", template=command.template)
        return None
    if status == "pending":
        await repository.notify_new_job(conn)
    else:
        await _emit_failed(conn, job_id, command.template, command.subject_user_id)
    log.info("email.accepted", job_id=str(job_id), template=command.template, status=status)
    return job_id


async def erase_user(conn: Conn, user_id: UUID) -> int:
    """AVG art. 17: drop the addresses, names and contexts of a user's e-mails."""
    count = await repository.erase_subject(conn, user_id)
    log.info("email.subject_erased", user_id=str(user_id), jobs=count)
    return count


@dataclass
class Delivery:
    """What the sender worker needs to deliver e-mails."""

    pool: asyncpg.Pool
    settings: NotifierSettings
    renderer: Renderer
    sender: SmtpSender
    # Resolves survey e-mails' recipients.
    identity: IdentityClient | None = None
    # The service clock (`ctx.clock`, read on each call: tests replace it, the e2e suite
    # moves it); it says whether a survey has closed.
    clock: Callable[[], Clock] = field(default=lambda: SYSTEM_CLOCK)

    async def deliver_next(self) -> bool:
        """Deliver one due job; False when none was due.

        The row stays locked (FOR UPDATE SKIP LOCKED) while the relay is talking, so
        replicas never send the same job twice; a crash before commit means one more
        attempt, which the stable Message-ID lets the relay recognise.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            job = await repository.claim_due_job(conn)
            if job is None:
                return False
            await self._deliver(conn, job)
            return True

    async def _resolve(self, conn: Conn, job: asyncpg.Record, bound: Any) -> Recipient | None:
        """The survey e-mail's current contact person; None when the job is settled."""
        job_id: UUID = job["id"]
        reason = await survey_mail.still_wanted(conn, job, self.clock().now())
        if reason is not None:
            await repository.mark_expired(conn, job_id, reason)
            await _emit_failed(conn, job_id, job["template"], None)
            bound.info("email.no_longer_wanted", reason=reason)
            return None
        if self.identity is None:
            raise DeliveryError("no identity client configured", permanent=False)
        try:
            recipient = await self.identity.survey_contact(
                job["recipient_survey_id"], job["recipient_organisation_id"]
            )
        except RecipientUnavailable as exc:
            raise DeliveryError(str(exc), permanent=False) from exc
        if recipient is None:
            await repository.mark_no_recipient(
                conn, job_id, "no contact person and no primary contact for the organisation"
            )
            await _emit_failed(conn, job_id, job["template"], None)
            metrics.EMAILS_FAILED.labels(job["template"]).inc()
            bound.warning("email.no_recipient")
            return None
        return recipient

    async def _deliver(self, conn: Conn, job: asyncpg.Record) -> None:
        job_id: UUID = job["id"]
        template: str = job["template"]
        user = job["subject_user_id"]
        locale: str = job["locale"]
        recipient_email: str | None = job["recipient_email"]
        recipient_name: str | None = job["recipient_name"]
        # `job_id`, not `email_id`: the log redaction blanks every key that names "email".
        bound = log.bind(job_id=str(job_id), template=template, attempt=job["attempts"] + 1)
        if job["expires_at"] is not None and job["expires_at"] <= datetime.now(UTC):
            await repository.mark_expired(conn, job_id, "expired before it could be delivered")
            await _emit_failed(conn, job_id, template, user)
            metrics.EMAILS_FAILED.labels(template).inc()
            bound.warning("email.expired")
            return
        if job["recipient_organisation_id"] is not None:
            bound = bound.bind(
                survey_id=str(job["recipient_survey_id"]),
                organisation_id=str(job["recipient_organisation_id"]),
            )
            try:
                recipient = await self._resolve(conn, job, bound)
            except DeliveryError as exc:
                await self._after_failure(conn, job, exc, bound)
                return
            if recipient is None:
                return
            # Used for this attempt only: the address is never written to the job.
            user, recipient_email, recipient_name = (
                recipient.user_id,
                recipient.email,
                recipient.name or None,
            )
            locale = normalise_locale(recipient.locale, self.settings.default_locale)
            await repository.set_resolved_recipient(conn, job_id, user, locale)
            bound = bound.bind(user_id=str(user), source=recipient.source)
        try:
            if recipient_email is None:
                raise ValueError("the e-mail has no recipient")
            rendered = self.renderer.render(
                template,
                locale,
                job["context"] or {},
                recipient_name=recipient_name,
                occurred_at=job["created_at"],
            )
            message = build_message(
                rendered,
                email_id=job_id,
                recipient_email=recipient_email,
                recipient_name=recipient_name,
                settings=self.settings,
            )
        except (TemplateError, ValueError, TypeError, email.errors.MessageError) as exc:
            await repository.mark_failed(conn, job_id, _short(str(exc)), keep_recipient=False)
            await _emit_failed(conn, job_id, template, user)
            metrics.EMAILS_FAILED.labels(template).inc()
            bound.error("email.render_failed", error=_short(str(exc)))
            return
        try:
            await self.sender.send(message)
        except DeliveryError as exc:
            await self._after_failure(conn, job, exc, bound, user)
            return
        await repository.mark_sent(conn, job_id)
        await _enqueue(conn, EmailSent(email_id=job_id, template=template, subject_user_id=user))
        metrics.EMAILS_SENT.labels(template).inc()
        bound.info("email.sent")

    async def _after_failure(
        self, conn: Conn, job: asyncpg.Record, exc: DeliveryError, bound: Any, user: Any = None
    ) -> None:
        job_id: UUID = job["id"]
        error = _short(str(exc))
        attempts = job["attempts"] + 1
        if exc.permanent or attempts >= self.settings.max_attempts:
            # A refused address will not improve by retrying; an exhausted schedule (relay
            # down) may, after an operator fixed the relay, so that recipient is kept a while.
            keep = not exc.permanent and self.settings.failed_recipient_retention_hours > 0
            await repository.mark_failed(conn, job_id, error, keep_recipient=keep)
            await _emit_failed(conn, job_id, job["template"], user or job["subject_user_id"])
            metrics.EMAILS_FAILED.labels(job["template"]).inc()
            bound.error("email.failed", error=error, permanent=exc.permanent)
            return
        delay = self.settings.retry_delays_seconds[attempts - 1]
        await repository.schedule_retry(conn, job_id, error, delay)
        metrics.EMAILS_RETRIED.labels(job["template"]).inc()
        bound.warning("email.retry_scheduled", error=error, retry_in=delay)

    async def purge(self) -> tuple[int, int]:
        """Retention: failed jobs' recipients after the grace period, rows after 90 days.

        One replica at a time: another that finds the purge running skips its tick.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            if not await advisory_xact_lock(conn, "notifier.retention"):
                return 0, 0
            purged = await repository.purge_failed_recipients(
                conn, self.settings.failed_recipient_retention_hours * 3600
            )
            deleted = await repository.delete_old_jobs(conn, self.settings.job_retention_days)
        if purged or deleted:
            log.info("email.retention", recipients_purged=purged, jobs_deleted=deleted)
        return purged, deleted


async def list_emails(
    conn: Conn, *, status: str | None, limit: int, before: datetime | None
) -> list[asyncpg.Record]:
    """E-mail jobs for operators, newest first, without personal data."""
    return await repository.list_jobs(conn, status=status, limit=limit, before=before)


async def get_email(conn: Conn, email_id: UUID) -> asyncpg.Record:
    """One job for operators, or NotFound."""
    job = await repository.get_job(conn, email_id)
    if job is None:
        raise NotFound("No such e-mail.")
    return job


async def retry_email(conn: Conn, email_id: UUID, by: UUID) -> asyncpg.Record:
    """Send a failed e-mail again (after an operator fixed the relay or named a contact)."""
    async with conn.transaction():
        job = await repository.get_job(conn, email_id, for_update=True)
        if job is None:
            raise NotFound("No such e-mail.")
        if job["status"] not in ("failed", "no_recipient"):
            raise Conflict(
                "Only failed e-mails (or ones that had no recipient) can be retried; "
                f"this one is {job['status']}."
            )
        if not job["has_recipient"]:
            raise Conflict(
                "The recipient of this e-mail has already been removed; "
                "ask the sending service to send it again."
            )
        if job["expires_at"] is not None and job["expires_at"] <= datetime.now(UTC):
            raise Conflict("This e-mail has expired (its link is no longer valid).")
        await repository.requeue(conn, email_id)
        await repository.notify_new_job(conn)
        job = await repository.get_job(conn, email_id)
    # Admin actions are audited (BIO2 8.15.01): who, what, which object.
    log.info("audit.email_retry", actor_id=str(by), job_id=str(email_id), result="requeued")
    return job
