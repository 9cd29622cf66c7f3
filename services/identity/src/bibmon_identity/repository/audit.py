"""The audit log."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bibmon_identity.repository._sql import Conn, each


@dataclass(frozen=True)
class AuditEntryRow:
    """An audit entry as the AVG export shows it (without its details)."""

    occurred_at: datetime
    action: str
    object_type: str | None
    object_id: str | None
    result: str
    origin: str | None


async def insert_audit(
    conn: Conn,
    *,
    action: str,
    result: str,
    actor_user_id: uuid.UUID | None,
    object_type: str | None,
    object_id: str | None,
    origin: str | None,
    details: dict[str, Any],
) -> None:
    """Append one audit entry."""
    await conn.execute(
        "INSERT INTO audit_log (actor_user_id, action, object_type, object_id, result, origin, "
        "details) VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb)",
        actor_user_id,
        action,
        object_type,
        object_id,
        result,
        origin,
        json.dumps(details),
    )


async def audit_of_user(conn: Conn, user_id: uuid.UUID) -> list[AuditEntryRow]:
    """Audit entries by or about a user (export)."""
    rows = await conn.fetch(
        "SELECT occurred_at, action, object_type, object_id, result, origin "
        "FROM audit_log WHERE actor_user_id = $1 OR (object_type = 'user' AND object_id = $2) "
        "ORDER BY occurred_at",
        user_id,
        str(user_id),
    )
    return each(AuditEntryRow, rows)
