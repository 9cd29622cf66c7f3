"""Every SQL statement of open data. Functions take an open connection.

Reads the read models (`survey`, `questionnaire_version`, `counted_response`,
`organisation`, `benchmark_state`: migrations 0002-0004) and owns `open_dataset` and
`open_data_state` (migration 0005).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Row = asyncpg.Record
Conn = asyncpg.Connection | PoolConnectionProxy


async def due_surveys(
    conn: Conn, settle_seconds: float, replay_quiet_seconds: float, limit: int = 10
) -> list[UUID]:
    """Closed surveys whose data changed since the last check and is complete.

    Complete: unchanged for `settle_seconds` (a burst of corrections makes one version),
    no rebuild replay seen for `replay_quiet_seconds`, and every counted organisation
    known (its facts may arrive after its submission).
    """
    rows = await conn.fetch(
        """
        SELECT s.id
        FROM survey s
        JOIN benchmark_state b ON b.survey_id = s.id
        LEFT JOIN open_data_state o ON o.survey_id = s.id
        WHERE s.closed_at IS NOT NULL
          AND o.seen_changed_at IS DISTINCT FROM b.changed_at
          AND b.changed_at <= now() - make_interval(secs => $2)
          AND NOT EXISTS (
              SELECT 1 FROM open_data_pause
              WHERE replay_seen_at > now() - make_interval(secs => $3)
          )
          AND NOT EXISTS (
              SELECT 1 FROM counted_response c
              LEFT JOIN organisation o ON o.id = c.organisation_id
              WHERE c.survey_id = s.id AND o.id IS NULL
          )
        ORDER BY b.changed_at
        LIMIT $1
        """,
        limit,
        settle_seconds,
        replay_quiet_seconds,
    )
    return [r["id"] for r in rows]


async def pause_for_replay(conn: Conn) -> None:
    """A rebuild starts: hold publication until its replay has been quiet for a while."""
    await conn.execute(
        """
        INSERT INTO open_data_pause (singleton, replay_seen_at) VALUES (true, now())
        ON CONFLICT (singleton) DO UPDATE SET replay_seen_at = now()
        """
    )


async def note_replay(conn: Conn) -> None:
    """A replayed event arrived: a rebuild's replay is still coming in (no-op otherwise)."""
    await conn.execute("UPDATE open_data_pause SET replay_seen_at = now()")


async def try_lock(conn: Conn, survey_id: UUID) -> bool:
    """One publication per survey at a time across replicas (until the transaction ends)."""
    locked: bool = await conn.fetchval(
        "SELECT pg_try_advisory_xact_lock("
        "hashtextextended('reporting.opendata:' || $1::uuid::text, 0))",
        survey_id,
    )
    return locked


async def survey_for_dataset(conn: Conn, survey_id: UUID) -> Row | None:
    """The survey's facts and the change time its data has now."""
    return await conn.fetchrow(
        """
        SELECT s.id, s.title, s.series_key, s.opens_at, s.closed_at, b.changed_at
        FROM survey s LEFT JOIN benchmark_state b ON b.survey_id = s.id
        WHERE s.id = $1
        """,
        survey_id,
    )


async def questionnaires(conn: Conn, survey_id: UUID) -> dict[int, Any]:
    """Every frozen questionnaire version of the survey (JSON), by version."""
    rows = await conn.fetch(
        "SELECT version, questionnaire FROM questionnaire_version WHERE survey_id = $1",
        survey_id,
    )
    return {r["version"]: r["questionnaire"] for r in rows}


async def counted_with_organisations(conn: Conn, survey_id: UUID) -> list[Row]:
    """The counted submissions with each organisation's public master data."""
    return await conn.fetch(
        """
        SELECT c.organisation_id, c.questionnaire_version, c.answers,
               o.name, o.province, o.municipalities, o.size_class
        FROM counted_response c LEFT JOIN organisation o ON o.id = c.organisation_id
        WHERE c.survey_id = $1
        """,
        survey_id,
    )


async def latest_version(conn: Conn, survey_id: UUID) -> Row | None:
    """The newest published version's number and fingerprint."""
    return await conn.fetchrow(
        """
        SELECT version, fingerprint FROM open_dataset
        WHERE survey_id = $1 ORDER BY version DESC LIMIT 1
        """,
        survey_id,
    )


async def insert_version(
    conn: Conn,
    *,
    survey_id: UUID,
    version: int,
    schema_version: int,
    licence: str,
    row_count: int,
    fingerprint: str,
    files: dict[str, bytes],
    sha256: dict[str, str],
    published_at: datetime,
) -> None:
    """Store a new dataset version (the primary key refuses a version twice)."""
    await conn.execute(
        """
        INSERT INTO open_dataset (survey_id, version, schema_version, licence, row_count,
            fingerprint, csv, json, dictionary, csv_sha256, json_sha256, dictionary_sha256,
            published_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        """,
        survey_id,
        version,
        schema_version,
        licence,
        row_count,
        fingerprint,
        files["csv"],
        files["json"],
        files["dictionary"],
        sha256["csv"],
        sha256["json"],
        sha256["dictionary"],
        published_at,
    )


async def mark_checked(
    conn: Conn, survey_id: UUID, seen_changed_at: datetime, checked_at: datetime
) -> None:
    """The dataset reflects the survey's data as of `seen_changed_at`."""
    await conn.execute(
        """
        INSERT INTO open_data_state (survey_id, seen_changed_at, checked_at)
        VALUES ($1, $2, $3)
        ON CONFLICT (survey_id) DO UPDATE
            SET seen_changed_at = EXCLUDED.seen_changed_at, checked_at = EXCLUDED.checked_at
        """,
        survey_id,
        seen_changed_at,
        checked_at,
    )


_FILE_COLUMN = {"csv": "csv", "json": "json", "dictionary": "dictionary"}


async def get_file(
    conn: Conn, survey_id: UUID, kind: str, version: int | None
) -> tuple[bytes, str, int] | None:
    """A closed survey's published file (the latest unless `version`): bytes, SHA-256, version."""
    column = _FILE_COLUMN[kind]
    row = await conn.fetchrow(
        f"""
        SELECT d.{column} AS content, d.{column}_sha256 AS sha256, d.version
        FROM open_dataset d JOIN survey s ON s.id = d.survey_id
        WHERE d.survey_id = $1 AND s.closed_at IS NOT NULL
          AND ($2::integer IS NULL OR d.version = $2)
        ORDER BY d.version DESC LIMIT 1
        """,  # noqa: S608 - the column name comes from _FILE_COLUMN, never from input
        survey_id,
        version,
    )
    if row is None:
        return None
    return bytes(row["content"]), row["sha256"], row["version"]


async def published_datasets(conn: Conn) -> list[Row]:
    """Each survey's latest dataset version, its first publication time and file sizes."""
    return await conn.fetch(
        """
        SELECT d.*, f.first_published AS issued,
               s.id, s.title, s.series_key, s.opens_at
        FROM (
            -- octet_length reads a stored value's size without loading it
            SELECT DISTINCT ON (survey_id) survey_id, version, schema_version, licence,
                   row_count, published_at AS modified,
                   octet_length(csv) AS csv_size, octet_length(json) AS json_size,
                   octet_length(dictionary) AS dictionary_size,
                   csv_sha256, json_sha256, dictionary_sha256
            FROM open_dataset
            ORDER BY survey_id, version DESC
        ) d
        JOIN (
            SELECT survey_id, min(published_at) AS first_published
            FROM open_dataset GROUP BY survey_id
        ) f ON f.survey_id = d.survey_id
        JOIN survey s ON s.id = d.survey_id
        WHERE s.closed_at IS NOT NULL
        ORDER BY s.opens_at DESC NULLS LAST, s.title, d.survey_id
        """
    )
