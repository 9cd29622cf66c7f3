"""How an e-mail's fate is told: the `notifier.email.sent/failed.v1` events and error texts."""

from __future__ import annotations

from uuid import UUID

from bibmon_common.contracts.notifier import EmailFailed, EmailSent
from bibmon_common.messaging.outbox import enqueue
from bibmon_notifier.deps import NotifierDeps
from bibmon_notifier.mail import scrub_addresses
from bibmon_notifier.repository import Conn

MAX_ERROR_LENGTH = 500


def short_error(error: str) -> str:
    """An error text fit to store and log: no addresses, at most 500 characters."""
    return scrub_addresses(error)[:MAX_ERROR_LENGTH]


async def emit_sent(
    deps: NotifierDeps, conn: Conn, email_id: UUID, template: str, user: UUID | None
) -> None:
    """`notifier.email.sent.v1`, in the transaction that marks the e-mail sent."""
    message = EmailSent(email_id=email_id, template=template, subject_user_id=user)
    await enqueue(conn, message, source=deps.source)


async def emit_failed(
    deps: NotifierDeps, conn: Conn, email_id: UUID, template: str, user: UUID | None
) -> None:
    """`notifier.email.failed.v1`: the notifier gave up on the e-mail."""
    message = EmailFailed(email_id=email_id, template=template, subject_user_id=user)
    await enqueue(conn, message, source=deps.source)
