"""Every SQL statement of the responses service. Functions take an open connection."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Row = asyncpg.Record
# A connection of its own or one borrowed from the pool; both behave the same.
Conn = asyncpg.Connection | PoolConnectionProxy

# --- surveys (read model of the surveys service) ----------------------------------------

_UPSERT_SURVEY = """
INSERT INTO survey (id, series_key, opens_at, closes_at, participants, source_time)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE SET
    series_key = EXCLUDED.series_key, opens_at = EXCLUDED.opens_at,
    closes_at = EXCLUDED.closes_at, participants = EXCLUDED.participants,
    source_time = EXCLUDED.source_time
WHERE survey.source_time IS NULL OR survey.source_time <= EXCLUDED.source_time
"""


async def upsert_survey(
    conn: Conn,
    *,
    survey_id: UUID,
    series_key: str | None,
    opens_at: datetime,
    closes_at: datetime,
    participants: Sequence[UUID],
    source_time: datetime,
) -> None:
    """Store a survey's facts unless a newer event already did (events may reorder)."""
    await conn.execute(
        _UPSERT_SURVEY, survey_id, series_key, opens_at, closes_at, list(participants), source_time
    )


async def mark_survey_closed(conn: Conn, survey_id: UUID, closed_at: datetime) -> None:
    """Remember the close; the first close wins (it may arrive before the publication)."""
    await conn.execute(
        """
        INSERT INTO survey (id, closed_at) VALUES ($1, $2)
        ON CONFLICT (id) DO UPDATE SET closed_at = coalesce(survey.closed_at, EXCLUDED.closed_at)
        """,
        survey_id,
        closed_at,
    )


async def insert_questionnaire_version(
    conn: Conn, survey_id: UUID, version: int, questionnaire: dict[str, Any]
) -> None:
    """Keep a questionnaire version; a version is frozen, so a repeat changes nothing."""
    await conn.execute(
        """
        INSERT INTO questionnaire_version (survey_id, version, questionnaire)
        VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
        """,
        survey_id,
        version,
        questionnaire,
    )


_SURVEY_COLUMNS = """
s.id, s.series_key, s.opens_at, s.closes_at, s.participants, s.closed_at,
(SELECT max(version) FROM questionnaire_version q WHERE q.survey_id = s.id)
    AS questionnaire_version
"""


async def get_published_survey(conn: Conn, survey_id: UUID) -> Row | None:
    """A survey with its facts and at least one questionnaire version, else None."""
    return await conn.fetchrow(
        f"SELECT {_SURVEY_COLUMNS} FROM survey s WHERE s.id = $1 AND s.opens_at IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM questionnaire_version q WHERE q.survey_id = s.id)",
        survey_id,
    )


async def get_questionnaire(conn: Conn, survey_id: UUID, version: int) -> dict[str, Any] | None:
    """One questionnaire version as stored JSON."""
    value = await conn.fetchval(
        "SELECT questionnaire FROM questionnaire_version WHERE survey_id = $1 AND version = $2",
        survey_id,
        version,
    )
    return value


async def previous_survey_id(
    conn: Conn, survey_id: UUID, series_key: str, opens_at: datetime
) -> UUID | None:
    """The latest other survey of the same series that opened earlier."""
    value = await conn.fetchval(
        """
        SELECT id FROM survey
        WHERE series_key = $1 AND opens_at < $2 AND id <> $3
        ORDER BY opens_at DESC LIMIT 1
        """,
        series_key,
        opens_at,
        survey_id,
    )
    return value


# Which submissions count for plausibility: per response its latest one that was not
# returned (unreviewed and accepted ones count; a response whose every submission was
# returned has none). A returned submission is no figure the organisation stands by (a
# typo, say): it must neither widen the national range nor show as the organisation's
# previous answer. `domain.counted_answers` is the reference; tests hold both queries
# below to it. $1 is the survey, $2 one organisation or NULL for every one.
_COUNTED_SUBMISSIONS = """
SELECT DISTINCT ON (r.id) r.organisation_id, s.answers
FROM response r JOIN response_submission s ON s.response_id = r.id
WHERE r.survey_id = $1 AND ($2::uuid IS NULL OR r.organisation_id = $2)
  AND s.review IS DISTINCT FROM 'returned'
ORDER BY r.id, s.submission DESC
"""


async def latest_submitted_answers(
    conn: Conn, survey_id: UUID, organisation_id: UUID | None = None
) -> list[Row]:
    """(organisation_id, answers) of the counted submission of each response to a survey
    (its latest that was not returned), of one organisation when given."""
    return await conn.fetch(_COUNTED_SUBMISSIONS, survey_id, organisation_id)


async def national_ranges(
    conn: Conn, survey_id: UUID, keys: Sequence[str]
) -> dict[str, tuple[float, float]]:
    """(min, max) per key of every organisation's counted numeric answer (the latest
    submission of each response that was not returned).

    Aggregated in the database, so an autosave does not fetch every organisation's
    answers (the same result as `domain.national_ranges`, which tests hold it to).
    """
    rows = await conn.fetch(
        f"""
        WITH counted AS ({_COUNTED_SUBMISSIONS})
        SELECT kv.key, min((kv.value #>> '{{}}')::float8) AS low,
               max((kv.value #>> '{{}}')::float8) AS high
        FROM counted CROSS JOIN LATERAL jsonb_each(counted.answers) AS kv
        WHERE kv.key = ANY($3::text[]) AND jsonb_typeof(kv.value) = 'number'
        GROUP BY kv.key
        """,
        survey_id,
        None,
        list(keys),
    )
    return {r["key"]: (r["low"], r["high"]) for r in rows}


# --- responses ---------------------------------------------------------------------------

_RESPONSE_COLUMNS = (
    "id, survey_id, organisation_id, status, revision, questionnaire_version, submission, "
    "submitted_at, explanations, remark, correction_open, reopen_reason, created_at, updated_at"
)


async def get_response(conn: Conn, survey_id: UUID, organisation_id: UUID) -> Row | None:
    """The organisation's response to a survey, if it was started."""
    return await conn.fetchrow(
        f"SELECT {_RESPONSE_COLUMNS} FROM response WHERE survey_id = $1 AND organisation_id = $2",
        survey_id,
        organisation_id,
    )


async def lock_or_create_response(
    conn: Conn,
    *,
    response_id: UUID,
    survey_id: UUID,
    organisation_id: UUID,
    questionnaire_version: int,
    status: str,
    now: datetime,
) -> tuple[Row, bool]:
    """The response row locked FOR UPDATE, created first if needed; (row, created).

    Two first saves at once both insert; ON CONFLICT makes the second wait for the first
    and insert nothing, then both lock the same row, one after the other.
    """
    created = await conn.fetchval(
        """
        INSERT INTO response (id, survey_id, organisation_id, status, questionnaire_version,
                              created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $6)
        ON CONFLICT (survey_id, organisation_id) DO NOTHING
        RETURNING true
        """,
        response_id,
        survey_id,
        organisation_id,
        status,
        questionnaire_version,
        now,
    )
    row = await lock_response(conn, survey_id, organisation_id)
    assert row is not None
    return row, bool(created)


async def lock_response(conn: Conn, survey_id: UUID, organisation_id: UUID) -> Row | None:
    """The response row locked FOR UPDATE, or None when it was never started."""
    return await conn.fetchrow(
        f"SELECT {_RESPONSE_COLUMNS} FROM response"
        " WHERE survey_id = $1 AND organisation_id = $2 FOR UPDATE",
        survey_id,
        organisation_id,
    )


_UPDATABLE = {
    "status",
    "revision",
    "submission",
    "submitted_at",
    "explanations",
    "remark",
    "correction_open",
    "reopen_reason",
    "updated_at",
}


async def update_response(conn: Conn, response_id: UUID, **fields: Any) -> Row:
    """Set the given columns (names come from code, never from input)."""
    assert fields
    assert set(fields) <= _UPDATABLE
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(fields, start=2))
    row = await conn.fetchrow(
        f"UPDATE response SET {assignments} WHERE id = $1 RETURNING {_RESPONSE_COLUMNS}",
        response_id,
        *fields.values(),
    )
    assert row is not None
    return row


async def list_answers(conn: Conn, response_id: UUID) -> list[Row]:
    """Every stored answer of a response (cleared ones with value NULL)."""
    return await conn.fetch(
        "SELECT question, value, revision, changed_at FROM response_answer"
        " WHERE response_id = $1 ORDER BY question",
        response_id,
    )


async def upsert_answers(
    conn: Conn,
    response_id: UUID,
    answers: dict[str, Any],
    *,
    revision: int,
    changed_at: datetime,
) -> None:
    """Write changed answers with the revision they changed at."""
    await conn.executemany(
        """
        INSERT INTO response_answer (response_id, question, value, revision, changed_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (response_id, question) DO UPDATE SET
            value = EXCLUDED.value, revision = EXCLUDED.revision,
            changed_at = EXCLUDED.changed_at
        """,
        [(response_id, key, value, revision, changed_at) for key, value in answers.items()],
    )


async def list_responses(conn: Conn, survey_id: UUID) -> list[Row]:
    """Status of every started response to a survey."""
    return await conn.fetch(
        "SELECT organisation_id, status, submission, submitted_at, updated_at"
        " FROM response WHERE survey_id = $1",
        survey_id,
    )


# --- submissions -------------------------------------------------------------------------


async def insert_submission(
    conn: Conn,
    *,
    response_id: UUID,
    submission: int,
    questionnaire_version: int,
    answers: dict[str, Any],
    explanations: dict[str, str],
    warnings: list[dict[str, Any]],
    submitted_at: datetime,
) -> None:
    """Record a submitted version of a response."""
    await conn.execute(
        """
        INSERT INTO response_submission (response_id, submission, questionnaire_version,
                                         answers, explanations, warnings, submitted_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        response_id,
        submission,
        questionnaire_version,
        answers,
        explanations,
        warnings,
        submitted_at,
    )


async def review_submission(
    conn: Conn,
    response_id: UUID,
    submission: int,
    *,
    review: str,
    reviewed_at: datetime,
    remark: str | None,
) -> None:
    """Record the researcher's verdict on one submission."""
    await conn.execute(
        """
        UPDATE response_submission SET review = $3, reviewed_at = $4, remark = $5
        WHERE response_id = $1 AND submission = $2
        """,
        response_id,
        submission,
        review,
        reviewed_at,
        remark,
    )


async def list_submissions(conn: Conn, response_id: UUID) -> list[Row]:
    """Every submitted version of a response, oldest first."""
    return await conn.fetch(
        """
        SELECT submission, questionnaire_version, answers, explanations, warnings,
               submitted_at, review, reviewed_at, remark
        FROM response_submission WHERE response_id = $1 ORDER BY submission
        """,
        response_id,
    )


async def counted_submissions(conn: Conn) -> list[Row]:
    """Every response's counted submission: its latest one that was not returned."""
    return await conn.fetch(
        """
        SELECT DISTINCT ON (r.id)
               r.id AS response_id, r.survey_id, r.organisation_id, s.submission,
               s.submitted_at, s.questionnaire_version, s.answers
        FROM response r JOIN response_submission s ON s.response_id = r.id
        WHERE s.review IS DISTINCT FROM 'returned'
        ORDER BY r.id, s.submission DESC
        """
    )
