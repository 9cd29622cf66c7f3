"""Every SQL statement of the service."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


async def upsert_organisation(
    conn: asyncpg.Connection,
    *,
    organisation_id: UUID,
    name: str,
    province: str,
    municipalities: list[str],
    inhabitants: int,
    size_class: str,
    source_time: datetime,
) -> None:
    """Insert or update the read model row unless a newer event already wrote it."""
    await conn.execute(
        """
        INSERT INTO organisation
            (id, name, province, municipalities, inhabitants, size_class, source_time)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (id) DO UPDATE SET
            name = EXCLUDED.name, province = EXCLUDED.province,
            municipalities = EXCLUDED.municipalities, inhabitants = EXCLUDED.inhabitants,
            size_class = EXCLUDED.size_class, source_time = EXCLUDED.source_time
        WHERE organisation.source_time <= EXCLUDED.source_time
        """,
        organisation_id,
        name,
        province,
        municipalities,
        inhabitants,
        size_class,
        source_time,
    )


async def list_organisations(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """All organisations of the read model, by name."""
    rows = await conn.fetch(
        "SELECT id, name, province, municipalities, inhabitants, size_class"
        " FROM organisation ORDER BY name"
    )
    return [dict(r) for r in rows]
