"""Users and their accounts."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bibmon_identity.repository._sql import Conn, assignments, each, like_pattern, one


@dataclass(frozen=True)
class UserRow:
    """A user as stored, with the organisation's name (hashes and secret included)."""

    id: uuid.UUID
    username: str
    name: str
    email: str | None
    roles: list[str]
    organisation_id: uuid.UUID | None
    password_hash: str | None
    password_changed_at: datetime | None
    totp_secret: bytes | None
    totp_confirmed_at: datetime | None
    totp_last_step: int | None
    mfa_failures: int
    mfa_locked_until: datetime | None
    disabled: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    locale: str
    setup_required: bool
    organisation_name: str | None


USER_COLUMNS = (
    "u.id, u.username, u.name, u.email, u.roles, u.organisation_id, u.password_hash, "
    "u.password_changed_at, u.totp_secret, u.totp_confirmed_at, u.totp_last_step, "
    "u.mfa_failures, u.mfa_locked_until, u.disabled, u.created_at, u.updated_at, "
    "u.last_login_at, u.locale, u.setup_required, o.name AS organisation_name"
)
_USER_FROM = "users u LEFT JOIN organisations o ON o.id = u.organisation_id"
_USER_UPDATABLE = frozenset(
    {
        "name",
        "email",
        "roles",
        "organisation_id",
        "disabled",
        "locale",
        "password_hash",
        "password_changed_at",
        "totp_secret",
        "totp_confirmed_at",
        "totp_last_step",
        "mfa_failures",
        "mfa_locked_until",
        "last_login_at",
        "setup_required",
    }
)


async def insert_user(
    conn: Conn,
    *,
    id: uuid.UUID,
    username: str,
    name: str,
    email: str | None,
    roles: Sequence[str],
    organisation_id: uuid.UUID | None,
    password_hash: str | None = None,
    setup_required: bool = False,
) -> None:
    """Insert a user; raises UniqueViolationError on a taken username."""
    await conn.execute(
        """
        INSERT INTO users (id, username, name, email, roles, organisation_id, password_hash,
                           password_changed_at, setup_required)
        VALUES ($1, $2, $3, $4, $5, $6, $7,
                CASE WHEN $7::text IS NULL THEN NULL ELSE now() END, $8)
        """,
        id,
        username,
        name,
        email,
        sorted(roles),
        organisation_id,
        password_hash,
        setup_required,
    )


async def get_user(conn: Conn, user_id: uuid.UUID, *, for_update: bool = False) -> UserRow | None:
    """One user by id."""
    lock = " FOR UPDATE OF u" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {USER_COLUMNS} FROM {_USER_FROM} WHERE u.id = $1{lock}", user_id
    )
    return one(UserRow, row)


async def get_user_by_username(conn: Conn, username: str) -> UserRow | None:
    """One user by username (case-insensitive)."""
    row = await conn.fetchrow(
        f"SELECT {USER_COLUMNS} FROM {_USER_FROM} WHERE lower(u.username) = lower($1)", username
    )
    return one(UserRow, row)


async def any_user_id(conn: Conn) -> uuid.UUID | None:
    """Some user's id (the oldest): the decoy of work that must look the same either way."""
    value = await conn.fetchval("SELECT id FROM users ORDER BY created_at, id LIMIT 1")
    return value if isinstance(value, uuid.UUID) else None


async def username_taken(conn: Conn, username: str) -> bool:
    """True when the username is in use."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1))", username
        )
    )


async def list_users(
    conn: Conn,
    *,
    organisation_id: uuid.UUID | None,
    role: str | None,
    limit: int,
    offset: int,
    q: str | None = None,
) -> tuple[list[UserRow], int]:
    """A page of users ordered by username, and the total matching.

    `q` matches part of the username, name or e-mail address (case-insensitive).
    """
    where = (
        "($1::uuid IS NULL OR u.organisation_id = $1) AND ($2::text IS NULL OR $2 = ANY(u.roles)) "
        "AND ($3::text IS NULL OR u.username ILIKE $3 OR u.name ILIKE $3 OR u.email ILIKE $3)"
    )
    pattern = like_pattern(q)
    rows = await conn.fetch(
        f"SELECT {USER_COLUMNS} FROM {_USER_FROM} WHERE {where} "
        "ORDER BY lower(u.username) LIMIT $4 OFFSET $5",
        organisation_id,
        role,
        pattern,
        limit,
        offset,
    )
    total = await conn.fetchval(
        f"SELECT count(*) FROM users u WHERE {where}", organisation_id, role, pattern
    )
    return each(UserRow, rows), int(total)


async def active_staff_of(conn: Conn, organisation_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """The organisation's active library staff (id and name), by name."""
    rows = await conn.fetch(
        "SELECT id, name FROM users WHERE organisation_id = $1 AND NOT disabled "
        "AND 'library_staff' = ANY(roles) ORDER BY lower(name), id",
        organisation_id,
    )
    return [(r["id"], r["name"]) for r in rows]


async def update_user(conn: Conn, user_id: uuid.UUID, fields: dict[str, Any]) -> None:
    """Update the given columns (names come from code, never from input)."""
    assert fields
    await conn.execute(
        f"UPDATE users SET {assignments(fields, _USER_UPDATABLE)}, updated_at = now() "
        "WHERE id = $1",
        user_id,
        *fields.values(),
    )


async def delete_user(conn: Conn, user_id: uuid.UUID) -> bool:
    """Delete a user and (by cascade) their tokens, sessions, codes and contact links."""
    await conn.execute("DELETE FROM account_requests WHERE user_id = $1", user_id)
    result = await conn.execute("DELETE FROM users WHERE id = $1", user_id)
    return result.endswith(" 1")


async def existing_usernames(conn: Conn, usernames: Sequence[str]) -> set[str]:
    """Which of the usernames exist (lower-cased)."""
    rows = await conn.fetch(
        "SELECT lower(username) AS u FROM users WHERE lower(username) = ANY($1::text[])",
        [u.lower() for u in usernames],
    )
    return {row["u"] for row in rows}
