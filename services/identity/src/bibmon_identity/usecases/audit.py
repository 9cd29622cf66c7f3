"""Audit log of security and admin events (BIO2 8.15.01; ASVS 16.3.1–16.3.3).

Each entry says who (user id), what (action), object, result, origin (client address)
and when (UTC). Never a password, token, code, secret, name or e-mail address: entries
outlive an erasure, so they hold ids only (ids are pseudonyms once the user is erased).
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog

from bibmon_identity import repository as repo
from bibmon_identity.repository import Conn

log = structlog.get_logger(__name__)


async def record(
    conn: Conn,
    action: str,
    *,
    result: str = "success",
    actor: uuid.UUID | None = None,
    object_type: str | None = None,
    object_id: uuid.UUID | str | None = None,
    origin: str | None = None,
    **details: Any,
) -> None:
    """Write one audit entry (in the caller's transaction) and a matching log line."""
    object_text = str(object_id) if object_id is not None else None
    await repo.insert_audit(
        conn,
        action=action,
        result=result,
        actor_user_id=actor,
        object_type=object_type,
        object_id=object_text,
        origin=origin,
        details=details,
    )
    log.info(
        f"audit.{action}",
        result=result,
        actor=str(actor) if actor else None,
        object_type=object_type,
        object_id=object_text,
        origin=origin,
        **details,
    )
