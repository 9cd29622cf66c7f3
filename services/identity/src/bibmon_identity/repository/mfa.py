"""The second login step and recovery codes."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bibmon_identity.repository._sql import Conn, one


@dataclass(frozen=True)
class MfaChallengeRow:
    """The open second step of one login."""

    id: uuid.UUID
    user_id: uuid.UUID
    expires_at: datetime
    failures: int
    used_at: datetime | None


async def insert_mfa_challenge(
    conn: Conn, challenge_id: uuid.UUID, user_id: uuid.UUID, expires_at: datetime
) -> None:
    """Open the second login step."""
    await conn.execute(
        "INSERT INTO mfa_challenges (id, user_id, expires_at) VALUES ($1, $2, $3)",
        challenge_id,
        user_id,
        expires_at,
    )


async def get_mfa_challenge(conn: Conn, challenge_id: uuid.UUID) -> MfaChallengeRow | None:
    """A challenge, locked."""
    row = await conn.fetchrow(
        "SELECT id, user_id, expires_at, failures, used_at FROM mfa_challenges "
        "WHERE id = $1 FOR UPDATE",
        challenge_id,
    )
    return one(MfaChallengeRow, row)


async def update_mfa_challenge(
    conn: Conn, challenge_id: uuid.UUID, *, failures: int, used: bool
) -> None:
    """Count a wrong code, or close the challenge."""
    await conn.execute(
        "UPDATE mfa_challenges SET failures = $2, "
        "used_at = CASE WHEN $3 THEN now() ELSE used_at END WHERE id = $1",
        challenge_id,
        failures,
        used,
    )


async def replace_recovery_codes(
    conn: Conn, user_id: uuid.UUID, code_hashes: Sequence[bytes]
) -> None:
    """Store a fresh set of recovery code hashes, dropping the old set."""
    await conn.execute("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
    await conn.executemany(
        "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)",
        [(user_id, code_hash) for code_hash in code_hashes],
    )


async def use_recovery_code(conn: Conn, user_id: uuid.UUID, code_hash: bytes) -> bool:
    """Spend a recovery code; False when unknown or already used."""
    result = await conn.execute(
        "UPDATE recovery_codes SET used_at = now() "
        "WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        user_id,
        code_hash,
    )
    return result.endswith(" 1")


async def count_recovery_codes(conn: Conn, user_id: uuid.UUID) -> int:
    """Unused recovery codes of a user."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL", user_id
        )
    )
