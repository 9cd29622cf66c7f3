"""Account requests from the public."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from bibmon_identity.repository._sql import Conn, each, one


@dataclass(frozen=True)
class AccountRequestRow:
    """A request from the public, with the organisation's name."""

    id: uuid.UUID
    name: str
    email: str
    organisation_id: uuid.UUID
    organisation_name: str
    message: str
    status: str
    reason: str | None
    user_id: uuid.UUID | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: uuid.UUID | None


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
) -> AccountRequestRow | None:
    """One request."""
    lock = " FOR UPDATE OF r" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {REQUEST_COLUMNS} FROM account_requests r "
        f"JOIN organisations o ON o.id = r.organisation_id WHERE r.id = $1{lock}",
        request_id,
    )
    return one(AccountRequestRow, row)


async def list_account_requests(
    conn: Conn, *, status: str | None, limit: int, offset: int
) -> tuple[list[AccountRequestRow], int]:
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
    return each(AccountRequestRow, rows), int(total)


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


async def account_requests_of_user(conn: Conn, user_id: uuid.UUID) -> list[AccountRequestRow]:
    """The request that led to a user's account (export)."""
    rows = await conn.fetch(
        f"SELECT {REQUEST_COLUMNS} FROM account_requests r "
        "JOIN organisations o ON o.id = r.organisation_id WHERE r.user_id = $1",
        user_id,
    )
    return each(AccountRequestRow, rows)
