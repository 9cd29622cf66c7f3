"""Single-use password links: reset and activation."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from bibmon_identity.repository._sql import Conn, one


@dataclass(frozen=True)
class PasswordLinkRow:
    """A reset or activation link (its hash is not read back)."""

    id: uuid.UUID
    user_id: uuid.UUID
    purpose: str
    expires_at: datetime
    used_at: datetime | None
    failures: int


async def insert_password_token(
    conn: Conn,
    *,
    user_id: uuid.UUID,
    purpose: str,
    token_hash: bytes,
    expires_at: datetime,
) -> None:
    """Store a reset or activation link's hash."""
    await conn.execute(
        "INSERT INTO password_tokens (id, user_id, purpose, token_hash, expires_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        uuid.uuid4(),
        user_id,
        purpose,
        token_hash,
        expires_at,
    )


async def find_password_token(
    conn: Conn, token_hash: bytes, *, for_update: bool = False
) -> PasswordLinkRow | None:
    """A link by its hash."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        "SELECT id, user_id, purpose, expires_at, used_at, failures FROM password_tokens "
        f"WHERE token_hash = $1{lock}",
        token_hash,
    )
    return one(PasswordLinkRow, row)


async def count_password_token_failure(
    conn: Conn, token_id: uuid.UUID, *, failures: int, spent: bool
) -> None:
    """Count a wrong second factor on a link; a spent link works no more."""
    await conn.execute(
        "UPDATE password_tokens SET failures = $2, "
        "used_at = CASE WHEN $3 THEN now() ELSE used_at END WHERE id = $1",
        token_id,
        failures,
        spent,
    )


async def spend_password_tokens(conn: Conn, user_id: uuid.UUID) -> None:
    """Mark every unused link of a user as used (older links die with a new one or a reset)."""
    await conn.execute(
        "UPDATE password_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
        user_id,
    )
