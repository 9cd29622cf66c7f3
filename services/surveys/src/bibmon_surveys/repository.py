"""Every SQL statement of the surveys service. Functions take an open connection."""

# SQL text here is assembled only from constants of this module and column names checked
# against an allow-list; every value is a bind parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Row = asyncpg.Record
# A plain connection or one borrowed from the pool; both behave the same.
Conn = asyncpg.Connection | PoolConnectionProxy

SURVEY_COLUMNS = (
    "id, series_key, title, description, mandatory, legal_basis, legal_basis_name, "
    "opens_at, closes_at, participants, questionnaire, questionnaire_version, "
    "created_at, updated_at, published_at, closed_at, closed_by_hand"
)
# The resolved participants as an array, for the representation (null for a draft).
_WITH_PARTICIPANTS = f"""
SELECT {SURVEY_COLUMNS},
       CASE WHEN s.published_at IS NULL THEN NULL ELSE
           ARRAY(SELECT p.organisation_id FROM survey_participant p
                 WHERE p.survey_id = s.id ORDER BY p.organisation_id)
       END AS participant_ids
FROM survey s
"""
_UPDATABLE = frozenset(
    {
        "series_key",
        "title",
        "description",
        "mandatory",
        "legal_basis",
        "legal_basis_name",
        "opens_at",
        "closes_at",
        "participants",
        "questionnaire",
        "questionnaire_version",
        "published_at",
        "closed_at",
        "closed_by_hand",
        "updated_at",
    }
)

# Status at {now} as SQL, the same rule as domain.status.
_STATUS_SQL = {
    "draft": "s.published_at IS NULL",
    "scheduled": "s.published_at IS NOT NULL AND s.closed_at IS NULL AND {now} < s.opens_at",
    "open": (
        "s.published_at IS NOT NULL AND s.closed_at IS NULL"
        " AND s.opens_at <= {now} AND {now} < s.closes_at"
    ),
    "closed": ("s.published_at IS NOT NULL AND (s.closed_at IS NOT NULL OR s.closes_at <= {now})"),
}


async def insert_survey(conn: Conn, values: dict[str, Any]) -> None:
    """Insert a draft survey."""
    await conn.execute(
        """
        INSERT INTO survey (id, series_key, title, description, mandatory, legal_basis,
                            legal_basis_name, opens_at, closes_at, participants,
                            questionnaire, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
        """,
        values["id"],
        values["series_key"],
        values["title"],
        values["description"],
        values["mandatory"],
        values["legal_basis"],
        values["legal_basis_name"],
        values["opens_at"],
        values["closes_at"],
        values["participants"],
        values["questionnaire"],
        values["created_at"],
    )


async def get_survey(conn: Conn, survey_id: UUID, *, for_update: bool = False) -> Row | None:
    """One survey with its resolved participants; `for_update` locks the row."""
    if for_update:
        # Lock the survey row alone, then read it with its participants.
        locked = await conn.fetchval("SELECT id FROM survey WHERE id = $1 FOR UPDATE", survey_id)
        if locked is None:
            return None
    return await conn.fetchrow(_WITH_PARTICIPANTS + " WHERE s.id = $1", survey_id)


async def surveys_exist(conn: Conn, survey_ids: Sequence[UUID] | None = None) -> bool:
    """Whether any survey exists (any of `survey_ids`, when given)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM survey WHERE $1::uuid[] IS NULL OR id = ANY($1::uuid[]))",
            None if survey_ids is None else list(survey_ids),
        )
    )


async def update_survey(conn: Conn, survey_id: UUID, fields: dict[str, Any]) -> None:
    """Set the given columns of a survey."""
    names = list(fields)
    unknown = set(names) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE survey SET {assignments} WHERE id = $1", survey_id, *fields.values()
    )


async def list_surveys(
    conn: Conn,
    *,
    now: datetime,
    status: str | None,
    series_key: str | None,
    organisation_id: UUID | None,
    published_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[Row], int]:
    """A page of surveys, latest opening first; `organisation_id` limits to its surveys."""
    conditions = ["TRUE"]
    args: list[Any] = []

    def param(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if status is not None:
        condition = _STATUS_SQL[status]
        if "{now}" in condition:
            condition = condition.format(now=param(now))
        conditions.append(condition)
    if published_only:
        conditions.append("s.published_at IS NOT NULL")
    if series_key is not None:
        conditions.append(f"s.series_key = {param(series_key)}")
    if organisation_id is not None:
        conditions.append(
            "EXISTS (SELECT 1 FROM survey_participant p"
            f" WHERE p.survey_id = s.id AND p.organisation_id = {param(organisation_id)})"
        )
    where = " AND ".join(conditions)
    total = await conn.fetchval(f"SELECT count(*) FROM survey s WHERE {where}", *args)
    page = f" LIMIT {param(limit)} OFFSET {param(offset)}"
    rows = await conn.fetch(
        _WITH_PARTICIPANTS
        + f" WHERE {where} ORDER BY s.opens_at DESC, s.created_at DESC, s.id"
        + page,
        *args,
    )
    return list(rows), int(total)


async def is_participant(conn: Conn, survey_id: UUID, organisation_id: UUID) -> bool:
    """Whether an organisation takes part in a published survey."""
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM survey_participant WHERE survey_id = $1 AND organisation_id = $2",
            survey_id,
            organisation_id,
        )
    )


async def insert_participants(
    conn: Conn, survey_id: UUID, organisation_ids: Sequence[UUID]
) -> None:
    """Store the participants resolved at publishing."""
    await conn.execute(
        """
        INSERT INTO survey_participant (survey_id, organisation_id)
        SELECT $1, unnest($2::uuid[])
        """,
        survey_id,
        list(organisation_ids),
    )


async def participants(conn: Conn, survey_id: UUID) -> list[Row]:
    """The stored participants with their read-model facts, by name."""
    return list(
        await conn.fetch(
            """
            SELECT p.organisation_id AS id, o.name, o.province, o.size_class
            FROM survey_participant p
            LEFT JOIN organisation o ON o.id = p.organisation_id
            WHERE p.survey_id = $1
            ORDER BY o.name NULLS LAST, p.organisation_id
            """,
            survey_id,
        )
    )


async def organisation_count(conn: Conn) -> int:
    """How many organisations the read model holds."""
    return int(await conn.fetchval("SELECT count(*) FROM organisation"))


async def known_organisation_ids(conn: Conn, ids: Sequence[UUID]) -> set[UUID]:
    """Which of `ids` the read model knows."""
    rows = await conn.fetch("SELECT id FROM organisation WHERE id = ANY($1::uuid[])", list(ids))
    return {r["id"] for r in rows}


async def insert_questionnaire_version(
    conn: Conn, survey_id: UUID, version: int, questionnaire: Any, published_at: datetime
) -> None:
    """Freeze a questionnaire as a version (the row is never updated)."""
    await conn.execute(
        """
        INSERT INTO questionnaire_version (survey_id, version, questionnaire, published_at)
        VALUES ($1, $2, $3, $4)
        """,
        survey_id,
        version,
        questionnaire,
        published_at,
    )


async def series_questionnaires(conn: Conn, survey_id: UUID, series_key: str | None) -> list[Row]:
    """Every published questionnaire version that binds the question types of `survey_id`:
    its own versions (`own` true) and, with a series, those of the series' other surveys;
    oldest first."""
    return list(
        await conn.fetch(
            """
            SELECT s.id, s.title, qv.version, qv.questionnaire, s.id = $1 AS own
            FROM survey s JOIN questionnaire_version qv ON qv.survey_id = s.id
            WHERE s.id = $1 OR ($2::text IS NOT NULL AND s.series_key = $2)
            ORDER BY qv.published_at, s.id, qv.version
            """,
            survey_id,
            series_key,
        )
    )


async def lock_series(conn: Conn, series_key: str | None) -> None:
    """Serialise the transactions that check or publish questionnaires of one series, so
    two publications cannot both pass the type check (held until the transaction ends)."""
    if series_key:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('bibmon-series:' || $1::text))", series_key
        )


async def advisory_lock(conn: Conn, key: int) -> None:
    """Take the transaction-level advisory lock `key` (held until the transaction ends)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", key)


async def get_questionnaire_version(conn: Conn, survey_id: UUID, version: int) -> Row | None:
    """One frozen version."""
    return await conn.fetchrow(
        "SELECT survey_id, version, questionnaire, published_at FROM questionnaire_version"
        " WHERE survey_id = $1 AND version = $2",
        survey_id,
        version,
    )


async def close_due(
    conn: Conn, now: datetime, survey_ids: Sequence[UUID] | None = None
) -> list[Row]:
    """Mark the published surveys past their deadline as closed (only `survey_ids`, when
    given); return those this call closed.

    Rows another closer (or a close by hand) holds are skipped; a row whose close was
    committed meanwhile fails the re-checked `closed_at IS NULL`. So every survey is
    closed exactly once, however many replicas run this at the same time.
    """
    return list(
        await conn.fetch(
            """
            WITH due AS (
                SELECT id FROM survey
                WHERE published_at IS NOT NULL AND closed_at IS NULL AND closes_at <= $1
                  AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))
                ORDER BY id
                FOR UPDATE SKIP LOCKED
            )
            UPDATE survey s SET closed_at = s.closes_at, closed_by_hand = FALSE, updated_at = $1
            FROM due
            WHERE s.id = due.id AND s.closed_at IS NULL
            RETURNING s.id, s.closed_at
            """,
            now,
            None if survey_ids is None else list(survey_ids),
        )
    )


async def published_surveys(conn: Conn) -> list[Row]:
    """Every published survey with its participants and questionnaire versions (`versions`)."""
    return await conn.fetch(
        f"""
        SELECT {SURVEY_COLUMNS},
               ARRAY(SELECT p.organisation_id FROM survey_participant p
                     WHERE p.survey_id = s.id ORDER BY p.organisation_id) AS participant_ids,
               (SELECT json_agg(json_build_object('version', v.version,
                                                  'questionnaire', v.questionnaire)
                                ORDER BY v.version)
                FROM questionnaire_version v WHERE v.survey_id = s.id) AS versions
        FROM survey s
        WHERE s.published_at IS NOT NULL
        ORDER BY s.published_at, s.id
        """
    )
