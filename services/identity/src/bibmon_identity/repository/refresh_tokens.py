"""Refresh tokens, one family per login session; ending sessions."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from bibmon_common.auth import REVOCATION_KEPT
from bibmon_common.contracts.identity import SessionRevoked
from bibmon_common.messaging import outbox
from bibmon_common.projections import record_revoked_sessions
from bibmon_identity.repository._sql import Conn, each, one


@dataclass(frozen=True)
class RefreshTokenRow:
    """A refresh token as stored (its hash is not read back)."""

    id: uuid.UUID
    family_id: uuid.UUID
    user_id: uuid.UUID
    scope: str
    amr: list[str]
    created_at: datetime
    idle_expires_at: datetime
    family_expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class SessionRow:
    """One login session of a user as the AVG export shows it."""

    family_id: uuid.UUID
    scope: str
    amr: list[str]
    created_at: datetime
    idle_expires_at: datetime
    family_expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


async def insert_refresh_token(
    conn: Conn,
    *,
    family_id: uuid.UUID,
    user_id: uuid.UUID,
    token_hash: bytes,
    scope: str,
    amr: Sequence[str],
    idle_expires_at: datetime,
    family_expires_at: datetime,
) -> None:
    """Store a refresh token's hash."""
    await conn.execute(
        """
        INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, scope, amr,
                                    idle_expires_at, family_expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        uuid.uuid4(),
        family_id,
        user_id,
        token_hash,
        scope,
        list(amr),
        idle_expires_at,
        family_expires_at,
    )


async def find_refresh_token(conn: Conn, token_hash: bytes) -> RefreshTokenRow | None:
    """A refresh token by hash, locked."""
    row = await conn.fetchrow(
        "SELECT id, family_id, user_id, scope, amr, created_at, idle_expires_at, "
        "family_expires_at, rotated_at, revoked_at FROM refresh_tokens "
        "WHERE token_hash = $1 FOR UPDATE",
        token_hash,
    )
    return one(RefreshTokenRow, row)


async def mark_refresh_rotated(conn: Conn, token_id: uuid.UUID) -> None:
    """The token has been exchanged; showing it again is reuse."""
    await conn.execute("UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1", token_id)


async def revoke_family(conn: Conn, family_id: uuid.UUID, *, now: datetime, source: str) -> None:
    """End one login session (all tokens of the family), its access tokens included.

    `now` and `source` (the use case's clock and event source) go into the event.
    """
    rows = await conn.fetch(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL"
        " RETURNING user_id, family_id",
        family_id,
    )
    await _sessions_ended(conn, rows, now=now, source=source)


async def revoke_user_sessions(
    conn: Conn, user_id: uuid.UUID, *, now: datetime, source: str
) -> None:
    """End every session of a user (ASVS 7.4.3), their access tokens included."""
    rows = await conn.fetch(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL"
        " RETURNING user_id, family_id",
        user_id,
    )
    await _sessions_ended(conn, rows, now=now, source=source)


async def _sessions_ended(
    conn: Conn, rows: Sequence[asyncpg.Record], *, now: datetime, source: str
) -> None:
    """Refuse the sessions' access tokens here at once, and tell every other service.

    Done here, where sessions end, so that no path that ends one can forget its access
    tokens (which would stay valid for up to access_token_minutes).
    """
    if not rows:
        return
    sessions = sorted({row["family_id"] for row in rows})
    expires_at = now + REVOCATION_KEPT
    await record_revoked_sessions(conn, sessions, expires_at)
    await outbox.enqueue(
        conn,
        SessionRevoked(
            user_id=rows[0]["user_id"], session_ids=tuple(sessions), expires_at=expires_at
        ),
        source=source,
    )


async def list_sessions(conn: Conn, user_id: uuid.UUID) -> list[SessionRow]:
    """Refresh-token rows of a user (for the AVG export)."""
    rows = await conn.fetch(
        "SELECT family_id, scope, amr, created_at, idle_expires_at, family_expires_at, "
        "rotated_at, revoked_at FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at",
        user_id,
    )
    return each(SessionRow, rows)
