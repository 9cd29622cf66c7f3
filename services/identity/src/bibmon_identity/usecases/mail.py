"""E-mails are commands to the notifier, written to the outbox in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from bibmon_common.contracts.notifier import SendEmail
from bibmon_common.events import Message
from bibmon_common.messaging import outbox
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.repository import Conn


async def send_email(
    deps: IdentityDeps,
    conn: Conn,
    template: str,
    *,
    recipient_email: str,
    recipient_name: str,
    subject_user_id: uuid.UUID | None,
    context: dict[str, Any] | None = None,
    expires_at: datetime | None = None,
    idempotency_key: str | None = None,
    locale: str = "nl",
) -> uuid.UUID:
    """Enqueue `notifier.send_email.v1`; a link's e-mail expires with the link."""
    command = SendEmail(
        idempotency_key=idempotency_key or f"identity:{template}:{uuid.uuid4()}",
        template=template,
        locale=locale,
        recipient_email=recipient_email,
        recipient_name=recipient_name,
        subject_user_id=subject_user_id,
        context=context or {},
        expires_at=expires_at,
    )
    return await enqueue(deps, conn, command)


async def enqueue(deps: IdentityDeps, conn: Conn, message: Message) -> uuid.UUID:
    """Write a message to the outbox in the caller's transaction, from `deps.source`."""
    return await outbox.enqueue(conn, message, source=deps.source)
