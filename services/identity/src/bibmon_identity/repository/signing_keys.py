"""The (encrypted) signing keys."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bibmon_identity.repository._sql import Conn, each


@dataclass(frozen=True)
class SigningKeyRow:
    """A signing key as stored: its private key encrypted with the data key."""

    kid: str
    private_key: bytes
    created_at: datetime


async def list_signing_keys(conn: Conn, limit: int = 2) -> list[SigningKeyRow]:
    """Newest signing keys first."""
    rows = await conn.fetch(
        "SELECT kid, private_key, created_at FROM signing_keys ORDER BY created_at DESC LIMIT $1",
        limit,
    )
    return each(SigningKeyRow, rows)


async def insert_signing_key(
    conn: Conn, kid: str, private_key: bytes, created_at: datetime
) -> None:
    """Store an (encrypted) signing key."""
    await conn.execute(
        "INSERT INTO signing_keys (kid, private_key, created_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (kid) DO NOTHING",
        kid,
        private_key,
        created_at,
    )
