"""Every SQL statement of the responses service. Functions take an open connection."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bibmon_common.projections import insert_questionnaire_version  # noqa: F401  (re-exported)

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


# survey_participant follows the participants the upsert wrote (none when a newer event
# already did): who takes part is then an index lookup, not a read of the whole array.
_SYNC_PARTICIPANTS = f"""
WITH s AS ({_UPSERT_SURVEY} RETURNING id, participants),
gone AS (
    DELETE FROM survey_participant p USING s
    WHERE p.survey_id = s.id AND p.organisation_id <> ALL (s.participants)
)
INSERT INTO survey_participant (survey_id, organisation_id)
SELECT s.id, unnest(s.participants) FROM s
ON CONFLICT DO NOTHING
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
        _SYNC_PARTICIPANTS,
        survey_id,
        series_key,
        opens_at,
        closes_at,
        list(participants),
        source_time,
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


async def get_survey_for(conn: Conn, survey_id: UUID, organisation_id: UUID) -> Row | None:
    """A published survey the organisation takes part in (its facts without the
    participants), else None."""
    return await conn.fetchrow(
        "SELECT s.id, s.series_key, s.opens_at, s.closes_at, s.closed_at,"
        " (SELECT max(version) FROM questionnaire_version q WHERE q.survey_id = s.id)"
        " AS questionnaire_version"
        " FROM survey s WHERE s.id = $1 AND s.opens_at IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM questionnaire_version q WHERE q.survey_id = s.id)"
        " AND EXISTS (SELECT 1 FROM survey_participant p"
        " WHERE p.survey_id = s.id AND p.organisation_id = $2)",
        survey_id,
        organisation_id,
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


# The national range of a survey is computed once and kept in `national_range` until a
# submission of that survey changes (triggers bump `generation`, migration savepath_0001).
# Computing it reads every organisation's counted submission. It is stored with the
# generation its snapshot saw, so it never passes for a newer one, and only while that
# generation is still the current one, so an outdated result never overwrites a newer
# one, also when several replicas recompute at once.
_COMPUTE_AND_STORE_RANGES = f"""
WITH g AS (SELECT generation FROM national_range WHERE survey_id = $1),
counted AS ({_COUNTED_SUBMISSIONS}),
agg AS (
    SELECT coalesce(jsonb_object_agg(k.key, jsonb_build_array(k.low, k.high)), '{{}}'::jsonb)
           AS ranges
    FROM (
        SELECT kv.key, min((kv.value #>> '{{}}')::float8) AS low,
               max((kv.value #>> '{{}}')::float8) AS high
        FROM counted CROSS JOIN LATERAL jsonb_each(counted.answers) AS kv
        WHERE jsonb_typeof(kv.value) = 'number'
        GROUP BY kv.key
    ) k
),
stored AS (
    UPDATE national_range n SET ranges = agg.ranges, computed_generation = g.generation
    FROM g, agg
    WHERE n.survey_id = $1 AND n.generation = g.generation
      AND n.computed_generation IS DISTINCT FROM g.generation
    RETURNING 1
)
SELECT agg.ranges, (SELECT count(*) FROM stored) AS stored FROM agg
"""


def ranges_for(ranges: dict[str, Any], keys: Sequence[str]) -> dict[str, tuple[float, float]]:
    wanted = set(keys)
    return {k: (float(v[0]), float(v[1])) for k, v in ranges.items() if k in wanted}


async def compute_national_ranges(
    conn: Conn, survey_id: UUID, keys: Sequence[str]
) -> dict[str, tuple[float, float]]:
    """Aggregate the national range over every counted submission and keep it for the
    next reader (unless a submission changed meanwhile). Needs a connection that may
    write (not a read-only transaction)."""
    row = await conn.fetchrow(_COMPUTE_AND_STORE_RANGES, survey_id, None)
    assert row is not None
    return ranges_for(row["ranges"], keys)


async def national_ranges(
    conn: Conn, survey_id: UUID, keys: Sequence[str]
) -> dict[str, tuple[float, float]]:
    """(min, max) per key of every organisation's counted numeric answer (the latest
    submission of each response that was not returned).

    Read from `national_range` while fresh, otherwise aggregated once in the database and
    kept (the same result as `domain.national_ranges`, which tests hold it to).
    """
    row = await conn.fetchrow(
        "SELECT generation, computed_generation, ranges FROM national_range WHERE survey_id = $1",
        survey_id,
    )
    if row is None:
        return {}  # no submission ever (a trigger creates the row with the first)
    if row["computed_generation"] == row["generation"]:
        return ranges_for(row["ranges"], keys)
    return await compute_national_ranges(conn, survey_id, keys)


# --- the hot paths: a response with everything its view needs, in one statement ----------

# The survey as an organisation sees it: published (facts and a questionnaire version),
# and the organisation takes part ($1 survey, $2 organisation). With it the previous
# survey of the series, the organisation's counted answers to that one and its national
# range while fresh (`ranges_stale` says when it must be recomputed).
_CONTEXT = """
s AS (
    SELECT s.id, s.series_key, s.opens_at, s.closes_at, s.closed_at,
           (SELECT max(q.version) FROM questionnaire_version q WHERE q.survey_id = s.id)
               AS questionnaire_version
    FROM survey s
    WHERE s.id = $1 AND s.opens_at IS NOT NULL
      AND EXISTS (SELECT 1 FROM survey_participant p
                  WHERE p.survey_id = s.id AND p.organisation_id = $2)
),
prev AS (
    SELECT p.id FROM survey p JOIN s ON p.series_key = s.series_key
    WHERE p.opens_at < s.opens_at AND p.id <> s.id
    ORDER BY p.opens_at DESC LIMIT 1
)"""

_CONTEXT_COLUMNS = """
s.id AS survey_id, s.series_key, s.opens_at, s.closes_at, s.closed_at,
s.questionnaire_version, prev.id AS previous_survey_id,
(SELECT sub.answers FROM response pr
     JOIN response_submission sub ON sub.response_id = pr.id
 WHERE pr.survey_id = prev.id AND pr.organisation_id = $2
   AND sub.review IS DISTINCT FROM 'returned'
 ORDER BY sub.submission DESC LIMIT 1) AS previous_answers,
CASE WHEN nr.survey_id IS NULL THEN '{}'::jsonb
     WHEN nr.computed_generation = nr.generation THEN nr.ranges END AS national_ranges
"""

_CONTEXT_FROM = """
FROM s LEFT JOIN prev ON true
LEFT JOIN national_range nr ON nr.survey_id = prev.id
"""

_RESPONSE_COLUMNS = (
    "id, survey_id, organisation_id, status, revision, questionnaire_version, submission, "
    "submitted_at, explanations, remark, correction_open, reopen_reason, created_at, updated_at"
)
_COLUMN_NAMES = _RESPONSE_COLUMNS.split(", ")


def _answers_of(response_id: str) -> str:
    # Every stored answer as [question, value, revision, changed_at in µs since 1970].
    return (
        "(SELECT jsonb_agg(jsonb_build_array(a.question, a.value, a.revision,"
        " (extract(epoch FROM a.changed_at) * 1000000)::bigint) ORDER BY a.question)"
        f" FROM response_answer a WHERE a.response_id = {response_id}) AS answers"
    )


_READ_RESPONSE = f"""
WITH {_CONTEXT},
r AS (
    SELECT *, xmin::text AS row_version FROM response
    WHERE survey_id = $1 AND organisation_id = $2
)
SELECT {_CONTEXT_COLUMNS},
       {", ".join(f"r.{c} AS r_{c}" for c in _COLUMN_NAMES)},
       r.row_version AS r_row_version,
       {_answers_of("r.id")}
{_CONTEXT_FROM} LEFT JOIN r ON true
"""

# The response row locked FOR UPDATE, created first when this is the first save ($3 id,
# $4 now), with the answers as they were when the statement started (`answers_revision`:
# the revision they belong to; when another save committed while this one waited for the
# lock, the locked revision is newer and the caller reads the answers again).
_LOCK_RESPONSE = f"""
WITH {_CONTEXT},
created AS (
    INSERT INTO response (id, survey_id, organisation_id, status, questionnaire_version,
                          created_at, updated_at)
    SELECT $3, s.id, $2, $5, s.questionnaire_version, $4, $4
    FROM s WHERE s.questionnaire_version IS NOT NULL
    ON CONFLICT (survey_id, organisation_id) DO NOTHING
    RETURNING *
),
locked AS (
    SELECT * FROM response WHERE survey_id = $1 AND organisation_id = $2 FOR UPDATE
),
seen AS (SELECT id, revision FROM response WHERE survey_id = $1 AND organisation_id = $2),
r AS (SELECT * FROM created UNION ALL SELECT * FROM locked)
SELECT {_CONTEXT_COLUMNS},
       {", ".join(f"r.{c} AS r_{c}" for c in _COLUMN_NAMES)},
       (SELECT count(*) FROM created) > 0 AS created,
       (SELECT revision FROM seen) AS answers_revision,
       {_answers_of("(SELECT id FROM seen)")}
{_CONTEXT_FROM} LEFT JOIN r ON true
"""


async def read_response(conn: Conn, survey_id: UUID, organisation_id: UUID) -> Row | None:
    """The survey (None unless published and the organisation takes part), its
    plausibility context and the organisation's response with its answers: one statement,
    so one snapshot. Response columns are prefixed `r_` (NULL before the first save);
    `r_row_version` changes with every update of the response row (its xmin)."""
    return await conn.fetchrow(_READ_RESPONSE, survey_id, organisation_id)


async def lock_response_for_change(
    conn: Conn,
    survey_id: UUID,
    organisation_id: UUID,
    *,
    response_id: UUID,
    status: str,
    now: datetime,
) -> Row | None:
    """As `read_response`, with the response locked FOR UPDATE and created when missing
    (with `response_id`, `status` and the survey's newest questionnaire version), plus
    `created` and `answers_revision`. In READ COMMITTED: the lock waits for another save
    of the same response and returns its row as that one left it."""
    return await conn.fetchrow(_LOCK_RESPONSE, survey_id, organisation_id, response_id, now, status)


def response_of(row: Row) -> dict[str, Any]:
    """The response columns of a `read_response`/`lock_response_for_change` row."""
    return {c: row[f"r_{c}"] for c in _COLUMN_NAMES}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def answers_of(row: Row) -> list[tuple[str, Any, int, datetime]]:
    """(question, value, revision, changed_at) of every stored answer of such a row."""
    return [
        (q, v, rev, _EPOCH + timedelta(microseconds=us)) for q, v, rev, us in row["answers"] or ()
    ]


_SAVE_ANSWERS = f"""
WITH written AS (
    INSERT INTO response_answer (response_id, question, value, revision, changed_at)
    SELECT $1, kv.key, NULLIF(kv.value, 'null'::jsonb), $2, $3 FROM jsonb_each($4::jsonb) AS kv
    ON CONFLICT (response_id, question) DO UPDATE SET
        value = EXCLUDED.value, revision = EXCLUDED.revision,
        changed_at = EXCLUDED.changed_at
    RETURNING question, value, changed_at
),
updated AS (
    UPDATE response SET revision = $2, updated_at = $3 WHERE id = $1
    RETURNING {", ".join(_COLUMN_NAMES)}
)
SELECT updated.*,
       (SELECT jsonb_agg(jsonb_build_array(w.question, w.value, $2::integer,
                (extract(epoch FROM w.changed_at) * 1000000)::bigint))
        FROM written w) AS answers
FROM updated
"""


_WRITTEN = """
(SELECT jsonb_agg(jsonb_build_array(w.question, w.value, $2::integer,
        (extract(epoch FROM w.changed_at) * 1000000)::bigint))
 FROM written w) AS answers
"""

# The optimistic save: the answers and the new revision, only if the response row is
# still the version that was read ($5, its xmin): any change in between (another save, a
# submission, a review) makes it write nothing, and the caller reads again.
_SAVE_IF_UNCHANGED = f"""
WITH updated AS (
    UPDATE response SET revision = $2, updated_at = $3
    WHERE id = $1 AND xmin::text = $5
    RETURNING {", ".join(_COLUMN_NAMES)}
),
written AS (
    INSERT INTO response_answer (response_id, question, value, revision, changed_at)
    SELECT updated.id, kv.key, NULLIF(kv.value, 'null'::jsonb), $2, $3
    FROM updated, jsonb_each($4::jsonb) AS kv
    ON CONFLICT (response_id, question) DO UPDATE SET
        value = EXCLUDED.value, revision = EXCLUDED.revision,
        changed_at = EXCLUDED.changed_at
    RETURNING question, value, changed_at
)
SELECT updated.*, {_WRITTEN} FROM updated
"""

# The first save: the response and its answers, unless another first save created the
# response in between (then nothing is written and the caller reads again).
_CREATE_WITH_ANSWERS = f"""
WITH created AS (
    INSERT INTO response (id, survey_id, organisation_id, status, revision,
                          questionnaire_version, created_at, updated_at)
    VALUES ($1, $5, $6, $7, $2, $8, $3, $3)
    ON CONFLICT (survey_id, organisation_id) DO NOTHING
    RETURNING {", ".join(_COLUMN_NAMES)}
),
written AS (
    INSERT INTO response_answer (response_id, question, value, revision, changed_at)
    SELECT created.id, kv.key, NULLIF(kv.value, 'null'::jsonb), $2, $3
    FROM created, jsonb_each($4::jsonb) AS kv
    RETURNING question, value, changed_at
)
SELECT created.*, {_WRITTEN} FROM created
"""

Saved = tuple[dict[str, Any], list[tuple[str, Any, int, datetime]]]


async def save_answers_if_unchanged(
    conn: Conn,
    response_id: UUID,
    row_version: str,
    answers: dict[str, Any],
    *,
    revision: int,
    changed_at: datetime,
) -> Saved | None:
    """Write changed answers at `revision` if the response row is still `row_version`;
    the updated response and the answers as stored, or None when it changed meanwhile."""
    row = await conn.fetchrow(
        _SAVE_IF_UNCHANGED, response_id, revision, changed_at, answers, row_version
    )
    if row is None:
        return None
    return {c: row[c] for c in _COLUMN_NAMES}, answers_of(row)


async def create_with_answers(
    conn: Conn, response: dict[str, Any], answers: dict[str, Any], *, revision: int
) -> Saved | None:
    """Create the response (as `response` describes it, at `revision`) with its first
    answers; None when another first save created it meanwhile."""
    row = await conn.fetchrow(
        _CREATE_WITH_ANSWERS,
        response["id"],
        revision,
        response["created_at"],
        answers,
        response["survey_id"],
        response["organisation_id"],
        response["status"],
        response["questionnaire_version"],
    )
    if row is None:
        return None
    return {c: row[c] for c in _COLUMN_NAMES}, answers_of(row)


async def save_answers(
    conn: Conn, response_id: UUID, answers: dict[str, Any], *, revision: int, changed_at: datetime
) -> tuple[dict[str, Any], list[tuple[str, Any, int, datetime]]]:
    """Write changed answers (None clears one) at `revision` and set the response's
    revision: one statement. Returns the updated response and the answers as stored."""
    row = await conn.fetchrow(_SAVE_ANSWERS, response_id, revision, changed_at, answers)
    assert row is not None
    return {c: row[c] for c in _COLUMN_NAMES}, answers_of(row)


# --- responses ---------------------------------------------------------------------------


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
    and insert nothing, then both lock the same row, one after the other. The conflict
    is on either unique key: (survey, organisation), or the id when both inserts chose the
    same one (the demo's ids are fixed, so two seedings at once do).
    """
    created = await conn.fetchval(
        """
        INSERT INTO response (id, survey_id, organisation_id, status, questionnaire_version,
                              created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $6)
        ON CONFLICT DO NOTHING
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
