"""E-mails other services ask for, a user's erasure, and what operators see and retry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

import structlog

from bibmon_common.contracts.notifier import SendEmail
from bibmon_common.errors import Conflict, NotFound
from bibmon_notifier import repository
from bibmon_notifier.deps import NotifierDeps
from bibmon_notifier.models import DeliveryState, EmailList, EmailOut, Status
from bibmon_notifier.rendering import TemplateError, normalise_locale, validate
from bibmon_notifier.repository import Conn
from bibmon_notifier.usecases.outcome import emit_failed, short_error

log = structlog.get_logger(__name__)


async def accept_send_email(deps: NotifierDeps, conn: Conn, command: SendEmail) -> UUID | None:
    """Record a send_email command as an e-mail (inside the consumer's transaction).

    Returns the new e-mail's id, or None when the idempotency key was seen before. A
    command that is already expired or can never be rendered is recorded without its
    recipient, so operators see it, and is never sent.
    """
    email_id = uuid.uuid4()
    locale = normalise_locale(command.locale, deps.settings.default_locale)
    status, error = "pending", None
    # Real time, like the link's own expiry (never the movable test clock).
    if command.expires_at is not None and command.expires_at <= datetime.now(UTC):
        status, error = "expired", "expired before it was accepted"
    else:
        try:
            validate(command.template, locale, command.context)
        except TemplateError as exc:
            status, error = "failed", short_error(str(exc))
    keep = status == "pending"
    inserted = await repository.insert_job(
        conn,
        id=email_id,
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
        await emit_failed(deps, conn, email_id, command.template, command.subject_user_id)
    log.info("email.accepted", email_id=str(email_id), template=command.template, status=status)
    return email_id


async def erase_user(deps: NotifierDeps, conn: Conn, user_id: UUID) -> int:
    """AVG art. 17: drop the addresses, names and contexts of a user's e-mails."""
    count = await repository.erase_subject(conn, user_id)
    log.info("email.subject_erased", user_id=str(user_id), jobs=count)
    return count


async def list_emails(
    deps: NotifierDeps, *, status: Status | None, limit: int, before: datetime | None
) -> EmailList:
    """A page of e-mails for operators, newest first, without personal data."""
    async with deps.connection() as conn:
        rows = await repository.list_jobs(conn, status=status, limit=limit, before=before)
    items = [EmailOut.from_row(r) for r in rows]
    return EmailList(items=items, next_before=items[-1].created_at if len(items) == limit else None)


async def get_email(deps: NotifierDeps, email_id: UUID) -> EmailOut:
    """One e-mail for operators, or NotFound."""
    async with deps.connection() as conn:
        row = await repository.get_job(conn, email_id)
    if row is None:
        raise NotFound("No such e-mail.")
    return EmailOut.from_row(row)


async def retry_email(deps: NotifierDeps, email_id: UUID, by: UUID) -> EmailOut:
    """Send a failed e-mail again (after an operator fixed the relay or named a contact)."""
    async with deps.transaction() as conn:
        row = await repository.get_job(conn, email_id, for_update=True)
        if row is None:
            raise NotFound("No such e-mail.")
        if row["status"] not in ("failed", "no_recipient"):
            raise Conflict(
                "Only failed e-mails (or ones that had no recipient) can be retried; "
                f"this one is {row['status']}."
            )
        if not row["has_recipient"]:
            raise Conflict(
                "The recipient of this e-mail has already been removed; "
                "ask the sending service to send it again."
            )
        if row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC):
            raise Conflict("This e-mail has expired (its link is no longer valid).")
        await repository.requeue(conn, email_id)
        await repository.notify_new_job(conn)
        row = await repository.get_job(conn, email_id)
    # Admin actions are audited (BIO2 8.15.01): who, what, which object.
    log.info("audit.email_retry", actor_id=str(by), email_id=str(email_id), result="requeued")
    return EmailOut.from_row(row)


async def delivery_state(deps: NotifierDeps) -> DeliveryState:
    """E-mails waiting and failed, for the gauges Prometheus scrapes."""
    async with deps.connection() as conn:
        return await repository.delivery_state(conn)
