"""Organisations: the public master data."""

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
class OrganisationRow:
    """An organisation as stored."""

    id: uuid.UUID
    name: str
    province: str
    municipalities: list[str]
    inhabitants: int
    size_class: str
    source: str | None
    primary_contact_user_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


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
) -> OrganisationRow:
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
    return OrganisationRow(**dict(row))


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
) -> OrganisationRow | None:
    """Update the given columns (names come from code, never from input)."""
    row = await conn.fetchrow(
        f"UPDATE organisations SET {assignments(fields, _ORG_UPDATABLE)}, updated_at = now() "
        "WHERE id = $1 "
        f"RETURNING {ORG_COLUMNS}",
        organisation_id,
        *fields.values(),
    )
    return one(OrganisationRow, row)


async def get_organisation(conn: Conn, organisation_id: uuid.UUID) -> OrganisationRow | None:
    """One organisation by id."""
    row = await conn.fetchrow(
        f"SELECT {ORG_COLUMNS} FROM organisations WHERE id = $1", organisation_id
    )
    return one(OrganisationRow, row)


async def get_organisation_by_name(conn: Conn, name: str) -> OrganisationRow | None:
    """One organisation by name (case-insensitive), locked for update."""
    row = await conn.fetchrow(
        f"SELECT {ORG_COLUMNS} FROM organisations WHERE lower(name) = lower($1) FOR UPDATE",
        name,
    )
    return one(OrganisationRow, row)


async def list_organisations(
    conn: Conn,
    *,
    province: str | None,
    size_class: str | None,
    limit: int,
    offset: int,
    q: str | None = None,
) -> tuple[list[OrganisationRow], int]:
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
    return each(OrganisationRow, rows), int(total)


async def all_organisations(conn: Conn) -> list[OrganisationRow]:
    """Every organisation, oldest first."""
    rows = await conn.fetch(f"SELECT {ORG_COLUMNS} FROM organisations ORDER BY created_at, id")
    return each(OrganisationRow, rows)
