"""Login throttles, known addresses and sliding-window rate events."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.

from __future__ import annotations

from datetime import datetime

from bibmon_identity.domain.throttling import AccountState
from bibmon_identity.repository._sql import Conn


async def lock_throttle(conn: Conn, key: bytes, account_key: bytes | None = None) -> AccountState:
    """The throttle state of a key, its row locked; concurrent attempts on one name queue here."""
    await conn.execute(
        "INSERT INTO login_throttle (key, failures, last_failure_at, account_key) "
        "VALUES ($1, 0, now(), $2) ON CONFLICT (key) DO NOTHING",
        key,
        account_key,
    )
    row = await conn.fetchrow(
        "SELECT failures, last_failure_at, locked_until FROM login_throttle "
        "WHERE key = $1 FOR UPDATE",
        key,
    )
    assert row is not None  # inserted just above when missing
    return AccountState(row["failures"], row["last_failure_at"], row["locked_until"])


async def save_throttle(
    conn: Conn,
    key: bytes,
    *,
    failures: int,
    last_failure_at: datetime,
    locked_until: datetime | None,
) -> None:
    """Store a key's failure state."""
    await conn.execute(
        "UPDATE login_throttle SET failures = $2, last_failure_at = $3, locked_until = $4 "
        "WHERE key = $1",
        key,
        failures,
        last_failure_at,
        locked_until,
    )


async def clear_throttle(conn: Conn, key: bytes) -> None:
    """A success resets the count."""
    await conn.execute("DELETE FROM login_throttle WHERE key = $1", key)


async def clear_account_throttles(conn: Conn, account_key: bytes) -> None:
    """A new password resets the account's count and every address's (locks included)."""
    await conn.execute("DELETE FROM login_throttle WHERE key = $1 OR account_key = $1", account_key)


async def is_known_address(conn: Conn, key: bytes) -> bool:
    """True when the account logged in from this address (within retention)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM login_known_addresses WHERE key = $1)", key
        )
    )


async def remember_address(conn: Conn, key: bytes) -> None:
    """Note a successful login from an address."""
    await conn.execute(
        "INSERT INTO login_known_addresses (key) VALUES ($1) "
        "ON CONFLICT (key) DO UPDATE SET last_success_at = now()",
        key,
    )


async def add_rate_event(conn: Conn, key: bytes) -> None:
    """Count one event for a sliding window."""
    await conn.execute("INSERT INTO rate_events (key) VALUES ($1)", key)


async def count_rate_events(conn: Conn, key: bytes, since: datetime) -> int:
    """Events of a key since a moment."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM rate_events WHERE key = $1 AND occurred_at > $2", key, since
        )
    )


async def oldest_rate_event(conn: Conn, key: bytes, since: datetime) -> datetime:
    """The oldest event in the window (to compute Retry-After)."""
    value = await conn.fetchval(
        "SELECT min(occurred_at) FROM rate_events WHERE key = $1 AND occurred_at > $2", key, since
    )
    return value or since
