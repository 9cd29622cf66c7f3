"""Every SQL statement of the identity service. Functions take an open connection."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.
# ruff: noqa: S608

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bibmon_common.auth import REVOCATION_KEPT
from bibmon_common.contracts.identity import SessionRevoked
from bibmon_common.messaging import outbox
from bibmon_common.projections import record_revoked_sessions
from bibmon_identity.clock import utcnow

Row = asyncpg.Record
# A plain connection or one borrowed from the pool; both behave the same.
Conn = asyncpg.Connection | PoolConnectionProxy
OUTBOX_SOURCE = "identity"  # as services.runtime.SOURCE (which imports this module)


def _assignments(fields: dict[str, Any], allowed: frozenset[str]) -> str:
    """`column = $2, …` of an UPDATE whose $1 is the row id; names come from code, not input."""
    assert set(fields) <= allowed
    return ", ".join(f"{column} = ${i}" for i, column in enumerate(fields, start=2))


def _affected(status: str) -> int:
    """The row count of asyncpg's command status (`DELETE 3` -> 3)."""
    return int(status.split()[-1])


async def advisory_xact_lock(conn: Conn, key: int) -> None:
    """Wait for a transaction-scoped advisory lock (one replica at a time does the work)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", key)


# --- organisations ---------------------------------------------------------------------

ORG_COLUMNS = (
    "id, name, province, municipalities, inhabitants, size_class, source, "
    "primary_contact_user_id, created_at, updated_at"
)
_ORG_UPDATABLE = frozenset(
    {
        "name",
        "province",
        "municipalities",
        "inhabitants",
        "size_class",
        "source",
        "primary_contact_user_id",
    }
)


async def count_organisations(conn: Conn) -> int:
    """Number of organisations."""
    return int(await conn.fetchval("SELECT count(*) FROM organisations"))


async def insert_organisation(
    conn: Conn,
    *,
    id: uuid.UUID,
    name: str,
    province: str,
    municipalities: Sequence[str],
    inhabitants: int,
    size_class: str,
    source: str | None,
) -> Row:
    """Insert an organisation; raises UniqueViolationError on a duplicate name."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO organisations (id, name, province, municipalities, inhabitants,
                                   size_class, source)
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {ORG_COLUMNS}
        """,
        id,
        name,
        province,
        list(municipalities),
        inhabitants,
        size_class,
        source,
    )
    assert row is not None
    return row


async def set_primary_contact_if_unset(
    conn: Conn, organisation_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """Make `user_id` the organisation's primary contact unless it already has one."""
    await conn.execute(
        "UPDATE organisations SET primary_contact_user_id = $2"
        " WHERE id = $1 AND primary_contact_user_id IS NULL",
        organisation_id,
        user_id,
    )


async def update_organisation(
    conn: Conn, organisation_id: uuid.UUID, fields: dict[str, Any]
) -> Row | None:
    """Update the given columns (names come from code, never from input)."""
    return await conn.fetchrow(
        f"UPDATE organisations SET {_assignments(fields, _ORG_UPDATABLE)}, updated_at = now() "
        "WHERE id = $1 "
        f"RETURNING {ORG_COLUMNS}",
        organisation_id,
        *fields.values(),
    )


async def get_organisation(conn: Conn, organisation_id: uuid.UUID) -> Row | None:
    """One organisation by id."""
    return await conn.fetchrow(
        f"SELECT {ORG_COLUMNS} FROM organisations WHERE id = $1", organisation_id
    )


async def get_organisation_by_name(conn: Conn, name: str) -> Row | None:
    """One organisation by name (case-insensitive), locked for update."""
    return await conn.fetchrow(
        f"SELECT {ORG_COLUMNS} FROM organisations WHERE lower(name) = lower($1) FOR UPDATE",
        name,
    )


def like_pattern(text: str | None) -> str | None:
    """A case-insensitive `contains` pattern for ILIKE (its wildcards taken literally)."""
    if not text:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_organisations(
    conn: Conn,
    *,
    province: str | None,
    size_class: str | None,
    limit: int,
    offset: int,
    q: str | None = None,
) -> tuple[list[Row], int]:
    """A page of organisations ordered by name, and the total matching.

    `q` matches part of the name or of a municipality (case-insensitive).
    """
    where = (
        "($1::text IS NULL OR province = $1) AND ($2::text IS NULL OR size_class = $2) "
        "AND ($3::text IS NULL OR name ILIKE $3 "
        "OR EXISTS (SELECT 1 FROM unnest(municipalities) m WHERE m ILIKE $3))"
    )
    pattern = like_pattern(q)
    rows = await conn.fetch(
        f"SELECT {ORG_COLUMNS} FROM organisations WHERE {where} "
        "ORDER BY lower(name) LIMIT $4 OFFSET $5",
        province,
        size_class,
        pattern,
        limit,
        offset,
    )
    total = await conn.fetchval(
        f"SELECT count(*) FROM organisations WHERE {where}", province, size_class, pattern
    )
    return list(rows), int(total)


async def all_organisations(conn: Conn) -> list[Row]:
    """Every organisation, oldest first."""
    return list(
        await conn.fetch(f"SELECT {ORG_COLUMNS} FROM organisations ORDER BY created_at, id")
    )


# --- users -----------------------------------------------------------------------------

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


async def get_user(conn: Conn, user_id: uuid.UUID, *, for_update: bool = False) -> Row | None:
    """One user by id."""
    lock = " FOR UPDATE OF u" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {USER_COLUMNS} FROM {_USER_FROM} WHERE u.id = $1{lock}", user_id
    )


async def get_user_by_username(conn: Conn, username: str) -> Row | None:
    """One user by username (case-insensitive)."""
    return await conn.fetchrow(
        f"SELECT {USER_COLUMNS} FROM {_USER_FROM} WHERE lower(u.username) = lower($1)", username
    )


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
) -> tuple[list[Row], int]:
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
    return list(rows), int(total)


async def active_staff_of(conn: Conn, organisation_id: uuid.UUID) -> list[Row]:
    """The organisation's active library staff (id and name), by name."""
    return list(
        await conn.fetch(
            "SELECT id, name FROM users WHERE organisation_id = $1 AND NOT disabled "
            "AND 'library_staff' = ANY(roles) ORDER BY lower(name), id",
            organisation_id,
        )
    )


async def update_user(conn: Conn, user_id: uuid.UUID, fields: dict[str, Any]) -> None:
    """Update the given columns (names come from code, never from input)."""
    assert fields
    await conn.execute(
        f"UPDATE users SET {_assignments(fields, _USER_UPDATABLE)}, updated_at = now() "
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


# --- single-use password links ---------------------------------------------------------


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
) -> Row | None:
    """A link by its hash."""
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        "SELECT id, user_id, purpose, expires_at, used_at, failures FROM password_tokens "
        f"WHERE token_hash = $1{lock}",
        token_hash,
    )


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


# --- refresh tokens --------------------------------------------------------------------


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


async def find_refresh_token(conn: Conn, token_hash: bytes) -> Row | None:
    """A refresh token by hash, locked."""
    return await conn.fetchrow(
        "SELECT id, family_id, user_id, scope, amr, created_at, idle_expires_at, "
        "family_expires_at, rotated_at, revoked_at FROM refresh_tokens "
        "WHERE token_hash = $1 FOR UPDATE",
        token_hash,
    )


async def mark_refresh_rotated(conn: Conn, token_id: uuid.UUID) -> None:
    """The token has been exchanged; showing it again is reuse."""
    await conn.execute("UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1", token_id)


async def revoke_family(conn: Conn, family_id: uuid.UUID) -> None:
    """End one login session (all tokens of the family), its access tokens included."""
    rows = await conn.fetch(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL"
        " RETURNING user_id, family_id",
        family_id,
    )
    await _sessions_ended(conn, rows)


async def revoke_user_sessions(conn: Conn, user_id: uuid.UUID) -> None:
    """End every session of a user (ASVS 7.4.3), their access tokens included."""
    rows = await conn.fetch(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL"
        " RETURNING user_id, family_id",
        user_id,
    )
    await _sessions_ended(conn, rows)


async def _sessions_ended(conn: Conn, rows: Sequence[Row]) -> None:
    """Refuse the sessions' access tokens here at once, and tell every other service.

    Done here, where sessions end, so that no path that ends one can forget its access
    tokens (which would stay valid for up to access_token_minutes).
    """
    if not rows:
        return
    sessions = sorted({row["family_id"] for row in rows})
    expires_at = utcnow() + REVOCATION_KEPT
    await record_revoked_sessions(conn, sessions, expires_at)
    await outbox.enqueue(
        conn,
        SessionRevoked(
            user_id=rows[0]["user_id"], session_ids=tuple(sessions), expires_at=expires_at
        ),
        source=OUTBOX_SOURCE,
    )


async def list_sessions(conn: Conn, user_id: uuid.UUID) -> list[Row]:
    """Refresh-token rows of a user (for the AVG export)."""
    return list(
        await conn.fetch(
            "SELECT family_id, scope, amr, created_at, idle_expires_at, family_expires_at, "
            "rotated_at, revoked_at FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at",
            user_id,
        )
    )


# --- MFA -------------------------------------------------------------------------------


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


async def get_mfa_challenge(conn: Conn, challenge_id: uuid.UUID) -> Row | None:
    """A challenge, locked."""
    return await conn.fetchrow(
        "SELECT id, user_id, expires_at, failures, used_at FROM mfa_challenges "
        "WHERE id = $1 FOR UPDATE",
        challenge_id,
    )


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


# --- throttling ------------------------------------------------------------------------


async def lock_throttle(conn: Conn, key: bytes, account_key: bytes | None = None) -> Row | None:
    """The throttle row of a key, locked; concurrent attempts on one username queue here."""
    await conn.execute(
        "INSERT INTO login_throttle (key, failures, last_failure_at, account_key) "
        "VALUES ($1, 0, now(), $2) ON CONFLICT (key) DO NOTHING",
        key,
        account_key,
    )
    return await conn.fetchrow(
        "SELECT failures, last_failure_at, locked_until FROM login_throttle "
        "WHERE key = $1 FOR UPDATE",
        key,
    )


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


# --- signing keys ----------------------------------------------------------------------


async def list_signing_keys(conn: Conn, limit: int = 2) -> list[Row]:
    """Newest signing keys first."""
    return list(
        await conn.fetch(
            "SELECT kid, private_key, created_at FROM signing_keys "
            "ORDER BY created_at DESC LIMIT $1",
            limit,
        )
    )


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


# --- account requests ------------------------------------------------------------------

REQUEST_COLUMNS = (
    "r.id, r.name, r.email, r.organisation_id, o.name AS organisation_name, r.message, "
    "r.status, r.reason, r.user_id, r.created_at, r.decided_at, r.decided_by"
)


async def insert_account_request(
    conn: Conn,
    *,
    id: uuid.UUID,
    name: str,
    email: str,
    organisation_id: uuid.UUID,
    message: str,
) -> None:
    """Store a request from the public."""
    await conn.execute(
        "INSERT INTO account_requests (id, name, email, organisation_id, message) "
        "VALUES ($1, $2, $3, $4, $5)",
        id,
        name,
        email,
        organisation_id,
        message,
    )


async def get_account_request(
    conn: Conn, request_id: uuid.UUID, *, for_update: bool = False
) -> Row | None:
    """One request."""
    lock = " FOR UPDATE OF r" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {REQUEST_COLUMNS} FROM account_requests r "
        f"JOIN organisations o ON o.id = r.organisation_id WHERE r.id = $1{lock}",
        request_id,
    )


async def list_account_requests(
    conn: Conn, *, status: str | None, limit: int, offset: int
) -> tuple[list[Row], int]:
    """A page of requests, oldest first."""
    rows = await conn.fetch(
        f"SELECT {REQUEST_COLUMNS} FROM account_requests r "
        "JOIN organisations o ON o.id = r.organisation_id "
        "WHERE ($1::text IS NULL OR r.status = $1) ORDER BY r.created_at LIMIT $2 OFFSET $3",
        status,
        limit,
        offset,
    )
    total = await conn.fetchval(
        "SELECT count(*) FROM account_requests WHERE ($1::text IS NULL OR status = $1)", status
    )
    return list(rows), int(total)


async def decide_account_request(
    conn: Conn,
    request_id: uuid.UUID,
    *,
    status: str,
    decided_by: uuid.UUID,
    user_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> None:
    """Record approval or rejection."""
    await conn.execute(
        "UPDATE account_requests SET status = $2, decided_at = now(), decided_by = $3, "
        "user_id = $4, reason = $5 WHERE id = $1",
        request_id,
        status,
        decided_by,
        user_id,
        reason,
    )


async def account_requests_of_user(conn: Conn, user_id: uuid.UUID) -> list[Row]:
    """The request that led to a user's account (export)."""
    return list(
        await conn.fetch(
            f"SELECT {REQUEST_COLUMNS} FROM account_requests r "
            "JOIN organisations o ON o.id = r.organisation_id WHERE r.user_id = $1",
            user_id,
        )
    )


# --- contact persons -------------------------------------------------------------------


async def get_contact(conn: Conn, survey_id: uuid.UUID, organisation_id: uuid.UUID) -> Row | None:
    """The contact person of an organisation for a survey."""
    return await conn.fetchrow(
        "SELECT c.survey_id, c.organisation_id, c.user_id, c.assigned_at, u.username, u.name "
        "FROM survey_contacts c JOIN users u ON u.id = c.user_id "
        "WHERE c.survey_id = $1 AND c.organisation_id = $2",
        survey_id,
        organisation_id,
    )


async def upsert_contact(
    conn: Conn,
    survey_id: uuid.UUID,
    organisation_id: uuid.UUID,
    user_id: uuid.UUID,
    assigned_by: uuid.UUID,
) -> None:
    """Register (or replace) the contact person."""
    await conn.execute(
        """
        INSERT INTO survey_contacts (survey_id, organisation_id, user_id, assigned_by)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (survey_id, organisation_id)
        DO UPDATE SET user_id = EXCLUDED.user_id, assigned_by = EXCLUDED.assigned_by,
                      assigned_at = now()
        """,
        survey_id,
        organisation_id,
        user_id,
        assigned_by,
    )


async def survey_recipient(
    conn: Conn, survey_id: uuid.UUID, organisation_id: uuid.UUID
) -> Row | None:
    """Who receives a survey's e-mails for an organisation, as things stand now.

    The contact person registered for the survey, else the organisation's primary
    contact; only an active user of that organisation who has an e-mail address.
    """
    return await conn.fetchrow(
        """
        SELECT id AS user_id, email, name, locale, source FROM (
            SELECT u.id, u.email, u.name, u.locale, 'survey_contact' AS source, 1 AS rank
            FROM survey_contacts c JOIN users u ON u.id = c.user_id
            WHERE c.survey_id = $1 AND c.organisation_id = $2
              AND u.organisation_id = $2 AND NOT u.disabled AND u.email IS NOT NULL
            UNION ALL
            SELECT u.id, u.email, u.name, u.locale, 'primary_contact' AS source, 2 AS rank
            FROM organisations o JOIN users u ON u.id = o.primary_contact_user_id
            WHERE o.id = $2
              AND u.organisation_id = $2 AND NOT u.disabled AND u.email IS NOT NULL
        ) AS candidates
        ORDER BY rank
        LIMIT 1
        """,
        survey_id,
        organisation_id,
    )


async def contacts_of_user(conn: Conn, user_id: uuid.UUID) -> list[Row]:
    """Contact-person registrations of a user (export)."""
    return list(
        await conn.fetch(
            "SELECT survey_id, organisation_id, assigned_at FROM survey_contacts "
            "WHERE user_id = $1 ORDER BY assigned_at",
            user_id,
        )
    )


# --- audit -----------------------------------------------------------------------------


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


async def audit_of_user(conn: Conn, user_id: uuid.UUID) -> list[Row]:
    """Audit entries by or about a user (export)."""
    return list(
        await conn.fetch(
            "SELECT occurred_at, action, object_type, object_id, result, origin "
            "FROM audit_log WHERE actor_user_id = $1 OR (object_type = 'user' AND object_id = $2) "
            "ORDER BY occurred_at",
            user_id,
            str(user_id),
        )
    )


# --- retention -------------------------------------------------------------------------


async def purge(
    conn: Conn,
    *,
    audit_before: datetime,
    audit_origin_before: datetime,
    rejected_before: datetime,
    pending_before: datetime,
) -> dict[str, int]:
    """Delete what the retention schedule no longer allows (docs/reliability.md 6, ADR 0016)."""
    statements = {
        "password_tokens": "DELETE FROM password_tokens WHERE expires_at < now() "
        "OR used_at < now() - interval '1 day'",
        "refresh_tokens": "DELETE FROM refresh_tokens WHERE family_expires_at < now() "
        "OR revoked_at < now() - interval '1 day'",
        "mfa_challenges": "DELETE FROM mfa_challenges WHERE expires_at < now()",
        "rate_events": "DELETE FROM rate_events WHERE occurred_at < now() - interval '1 day'",
        "login_throttle": "DELETE FROM login_throttle WHERE last_failure_at < now() - "
        "interval '1 day' AND (locked_until IS NULL OR locked_until < now())",
        "login_known_addresses": "DELETE FROM login_known_addresses "
        "WHERE last_success_at < now() - interval '90 days'",
    }
    counts = {table: _affected(await conn.execute(sql)) for table, sql in statements.items()}
    counts["account_requests"] = _affected(
        await conn.execute(
            "DELETE FROM account_requests WHERE status = 'rejected' AND decided_at < $1",
            rejected_before,
        )
    )
    counts["pending_account_requests"] = _affected(
        await conn.execute(
            "DELETE FROM account_requests WHERE status = 'pending' AND created_at < $1",
            pending_before,
        )
    )
    counts["audit_log"] = _affected(
        await conn.execute("DELETE FROM audit_log WHERE occurred_at < $1", audit_before)
    )
    counts["audit_log_origins"] = _affected(
        await conn.execute(
            "UPDATE audit_log SET origin = NULL WHERE occurred_at < $1 AND origin IS NOT NULL",
            audit_origin_before,
        )
    )
    return counts
