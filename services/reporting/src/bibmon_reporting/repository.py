"""Every SQL statement of the reporting service. Functions take an open connection.

Read-model tables (migrations 0002-0004), for the renderers and the open-data datasets:
`organisation`, `survey`, `questionnaire_version`, `response_submission`,
`counted_response` (one row per counted submission, its answers as JSONB),
`answer_numeric` and `answer_choice` (the counted answers, normalised), and the computed
figures `benchmark_state`, `benchmark_numeric`, `benchmark_rank` (one row per organisation),
`benchmark_choice`.
"""

# SQL text here is assembled only from constants of this module; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bibmon_common.projections import insert_questionnaire_version  # noqa: F401  (re-exported)

Row = asyncpg.Record
Conn = asyncpg.Connection | PoolConnectionProxy

# The tables a rebuild empties: everything reporting learned from events. Not
# `report_ready` (what reporting announced stays announced) nor the kernel tables.
READ_MODEL_TABLES = (
    "organisation",
    "survey",
    "questionnaire_version",
    "response_submission",
    "counted_response",
    "answer_numeric",
    "answer_choice",
    "benchmark_state",
    "benchmark_numeric",
    "benchmark_rank",
    "benchmark_choice",
)

# --- surveys --------------------------------------------------------------------------------


async def upsert_survey(
    conn: Conn,
    *,
    survey_id: UUID,
    series_key: str | None,
    title: str,
    description: str,
    opens_at: datetime,
    closes_at: datetime,
    participants: Sequence[UUID],
    source_time: datetime,
) -> None:
    """Store a survey's facts unless a newer event already did (events may reorder)."""
    await conn.execute(
        """
        INSERT INTO survey (id, series_key, title, description, opens_at, closes_at,
                            participants, source_time)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (id) DO UPDATE SET
            series_key = EXCLUDED.series_key, title = EXCLUDED.title,
            description = EXCLUDED.description, opens_at = EXCLUDED.opens_at,
            closes_at = EXCLUDED.closes_at, participants = EXCLUDED.participants,
            source_time = EXCLUDED.source_time
        WHERE survey.source_time IS NULL OR survey.source_time <= EXCLUDED.source_time
        """,
        survey_id,
        series_key,
        title,
        description,
        opens_at,
        closes_at,
        list(participants),
        source_time,
    )


async def mark_survey_closed(conn: Conn, survey_id: UUID, closed_at: datetime) -> bool:
    """Remember the close (the first one wins); True when the survey was not closed before."""
    previous = await conn.fetchval(
        """
        WITH old AS (SELECT closed_at FROM survey WHERE id = $1)
        INSERT INTO survey (id, closed_at) VALUES ($1, $2)
        ON CONFLICT (id) DO UPDATE SET closed_at = coalesce(survey.closed_at, EXCLUDED.closed_at)
        RETURNING (SELECT closed_at FROM old)
        """,
        survey_id,
        closed_at,
    )
    return previous is None


async def survey_count(conn: Conn) -> int:
    """How many surveys reporting knows."""
    count: int = await conn.fetchval("SELECT count(*) FROM survey")
    return count


async def get_questionnaire(conn: Conn, survey_id: UUID, version: int) -> dict[str, Any] | None:
    """One questionnaire version's JSON."""
    value: dict[str, Any] | None = await conn.fetchval(
        "SELECT questionnaire FROM questionnaire_version WHERE survey_id = $1 AND version = $2",
        survey_id,
        version,
    )
    return value


async def get_survey(conn: Conn, survey_id: UUID) -> Row | None:
    """The survey's facts with its latest questionnaire version (NULL if none yet)."""
    return await conn.fetchrow(
        """
        SELECT s.*, q.version AS questionnaire_version, q.questionnaire
        FROM survey s
        LEFT JOIN LATERAL (
            SELECT version, questionnaire FROM questionnaire_version
            WHERE survey_id = s.id ORDER BY version DESC LIMIT 1
        ) q ON true
        WHERE s.id = $1
        """,
        survey_id,
    )


# --- submissions ----------------------------------------------------------------------------


async def upsert_submission(
    conn: Conn,
    *,
    response_id: UUID,
    submission: int,
    survey_id: UUID,
    organisation_id: UUID,
    questionnaire_version: int,
    submitted_at: datetime,
    answers: dict[str, Any],
) -> None:
    """Record a submission's (kept) answers; a returned mark that came first stays."""
    await conn.execute(
        """
        INSERT INTO response_submission (response_id, submission, survey_id, organisation_id,
                                         questionnaire_version, submitted_at, answers)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (response_id, submission) DO UPDATE SET
            questionnaire_version = EXCLUDED.questionnaire_version,
            submitted_at = EXCLUDED.submitted_at, answers = EXCLUDED.answers
        """,
        response_id,
        submission,
        survey_id,
        organisation_id,
        questionnaire_version,
        submitted_at,
        answers,
    )


async def mark_returned(
    conn: Conn,
    *,
    response_id: UUID,
    submission: int,
    survey_id: UUID,
    organisation_id: UUID,
    returned_at: datetime,
) -> None:
    """Mark a submission as returned, also before its submitted event has arrived."""
    await conn.execute(
        """
        INSERT INTO response_submission (response_id, submission, survey_id, organisation_id,
                                         returned_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (response_id, submission) DO UPDATE SET returned_at = EXCLUDED.returned_at
        """,
        response_id,
        submission,
        survey_id,
        organisation_id,
        returned_at,
    )


async def lock_response(conn: Conn, survey_id: UUID, organisation_id: UUID) -> None:
    """Serialise changes to one organisation's counted submission (until the transaction ends).

    Two events of one response handled at once would each see only their own submission.
    """
    await conn.execute(
        "SELECT pg_advisory_xact_lock("
        "hashtextextended('reporting.response:' || $1::uuid::text || $2::uuid::text, 0))",
        survey_id,
        organisation_id,
    )


async def counted_candidate(conn: Conn, survey_id: UUID, organisation_id: UUID) -> Row | None:
    """The submission that counts: the latest one with answers that was not returned."""
    return await conn.fetchrow(
        """
        SELECT response_id, submission, submitted_at, questionnaire_version, answers
        FROM response_submission
        WHERE survey_id = $1 AND organisation_id = $2
          AND answers IS NOT NULL AND returned_at IS NULL
        ORDER BY submission DESC, submitted_at DESC
        LIMIT 1
        """,
        survey_id,
        organisation_id,
    )


async def get_counted(conn: Conn, survey_id: UUID, organisation_id: UUID) -> Row | None:
    """The organisation's counted submission, if any."""
    return await conn.fetchrow(
        "SELECT * FROM counted_response WHERE survey_id = $1 AND organisation_id = $2",
        survey_id,
        organisation_id,
    )


async def replace_counted(
    conn: Conn,
    survey_id: UUID,
    organisation_id: UUID,
    counted: Row | None,
    numeric: Sequence[tuple[str, float]],
    choice: Sequence[tuple[str, str]],
) -> None:
    """Make `counted` (None: nothing) the organisation's counted submission and answers."""
    await conn.execute(
        "DELETE FROM counted_response WHERE survey_id = $1 AND organisation_id = $2",
        survey_id,
        organisation_id,
    )
    await conn.execute(
        "DELETE FROM answer_numeric WHERE survey_id = $1 AND organisation_id = $2",
        survey_id,
        organisation_id,
    )
    await conn.execute(
        "DELETE FROM answer_choice WHERE survey_id = $1 AND organisation_id = $2",
        survey_id,
        organisation_id,
    )
    if counted is None:
        return
    await conn.execute(
        """
        INSERT INTO counted_response (survey_id, organisation_id, response_id, submission,
                                      submitted_at, questionnaire_version, answers)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        survey_id,
        organisation_id,
        counted["response_id"],
        counted["submission"],
        counted["submitted_at"],
        counted["questionnaire_version"],
        counted["answers"],
    )
    if numeric:
        await conn.execute(
            """
            INSERT INTO answer_numeric (survey_id, question_key, organisation_id, value)
            SELECT $1, k, $2, v FROM unnest($3::text[], $4::float8[]) AS t(k, v)
            """,
            survey_id,
            organisation_id,
            [k for k, _ in numeric],
            [v for _, v in numeric],
        )
    if choice:
        await conn.execute(
            """
            INSERT INTO answer_choice (survey_id, question_key, organisation_id, option)
            SELECT $1, k, $2, o FROM unnest($3::text[], $4::text[]) AS t(k, o)
            ON CONFLICT DO NOTHING
            """,
            survey_id,
            organisation_id,
            [k for k, _ in choice],
            [o for _, o in choice],
        )


async def list_counted(
    conn: Conn, survey_id: UUID, organisation_id: UUID | None = None
) -> list[Row]:
    """The counted submissions of a survey (of one organisation) with its public facts."""
    return await conn.fetch(
        """
        SELECT c.organisation_id, c.response_id, c.submission, c.submitted_at,
               c.questionnaire_version, c.answers,
               o.name, o.province, o.municipalities, o.inhabitants, o.size_class
        FROM counted_response c LEFT JOIN organisation o ON o.id = c.organisation_id
        WHERE c.survey_id = $1 AND ($2::uuid IS NULL OR c.organisation_id = $2)
        ORDER BY o.name, c.organisation_id
        """,
        survey_id,
        organisation_id,
    )


# --- benchmark state --------------------------------------------------------------------------


async def mark_changed(conn: Conn, survey_id: UUID) -> None:
    """The survey's figures need computing again."""
    await conn.execute(
        """
        INSERT INTO benchmark_state (survey_id) VALUES ($1)
        ON CONFLICT (survey_id) DO UPDATE SET
            change_seq = benchmark_state.change_seq + 1, changed_at = now()
        """,
        survey_id,
    )


async def mark_changed_for_organisation(conn: Conn, organisation_id: UUID) -> None:
    """Every survey the organisation has a counted submission in needs computing again."""
    await conn.execute(
        """
        UPDATE benchmark_state SET change_seq = change_seq + 1, changed_at = now()
        WHERE survey_id IN (
            SELECT survey_id FROM counted_response WHERE organisation_id = $1)
        """,
        organisation_id,
    )


async def dirty_surveys(conn: Conn, limit: int = 10) -> list[UUID]:
    """Surveys whose figures are older than their data, longest waiting first."""
    rows = await conn.fetch(
        """
        SELECT survey_id FROM benchmark_state WHERE computed_seq < change_seq
        ORDER BY changed_at LIMIT $1
        """,
        limit,
    )
    return [r["survey_id"] for r in rows]


async def try_lock_survey(conn: Conn, survey_id: UUID) -> bool:
    """One computation per survey at a time across replicas (until the transaction ends)."""
    locked: bool = await conn.fetchval(
        "SELECT pg_try_advisory_xact_lock("
        "hashtextextended('reporting.benchmark:' || $1::uuid::text, 0))",
        survey_id,
    )
    return locked


async def get_state(conn: Conn, survey_id: UUID) -> Row | None:
    """The survey's benchmark state."""
    return await conn.fetchrow("SELECT * FROM benchmark_state WHERE survey_id = $1", survey_id)


async def mark_computed(
    conn: Conn,
    survey_id: UUID,
    seq: int,
    computed_at: datetime,
    counted: int,
    numeric_keys: Sequence[str],
) -> None:
    """Record that the figures reflect every change up to `seq`; `numeric_keys` name the
    questions of `benchmark_rank.slots`."""
    await conn.execute(
        """
        UPDATE benchmark_state SET computed_seq = greatest(computed_seq, $2),
            computed_at = $3, counted = $4, numeric_keys = $5
        WHERE survey_id = $1
        """,
        survey_id,
        seq,
        computed_at,
        counted,
        list(numeric_keys),
    )


# --- the computation -------------------------------------------------------------------------

# The counted numeric values of one survey in each comparison group of their organisation:
# as the answer (measure 0, 'value') and, for the per-inhabitant questions, per 1,000
# inhabitants (measure 1, 'per_1000'). An organisation without a read-model row counts
# nationally only. Groups are numbered (qi: the question's place in $2, ki: national,
# province, size class, gi: the province's place in $4 or the size class's in $5), so the
# sorts below compare integers, not text: several times faster on millions of rows.
_GROUP_VALUES = """
CREATE TEMP TABLE bm_values ON COMMIT DROP AS
WITH k AS (
    SELECT * FROM unnest($2::text[], $3::bool[]) WITH ORDINALITY AS k(question_key, per, qi)
), v AS (
    SELECT k.qi::int AS qi, m.mi, a.organisation_id,
           CASE m.mi WHEN 0 THEN a.value ELSE a.value * 1000.0 / o.inhabitants END AS x,
           array_position($4::text[], o.province) AS province,
           array_position($5::text[], o.size_class) AS size_class
    FROM answer_numeric a
    JOIN k ON k.question_key = a.question_key
    LEFT JOIN organisation o ON o.id = a.organisation_id
    CROSS JOIN LATERAL (VALUES (0), (1)) AS m(mi)
    WHERE a.survey_id = $1 AND (m.mi = 0 OR (k.per AND o.inhabitants > 0))
)
SELECT qi, mi, 0 AS ki, 0 AS gi, organisation_id, x FROM v
UNION ALL
SELECT qi, mi, 1, province, organisation_id, x FROM v WHERE province IS NOT NULL
UNION ALL
SELECT qi, mi, 2, size_class, organisation_id, x FROM v WHERE size_class IS NOT NULL
"""

# The group's names back from its numbers ($1 survey, $2 question keys, $3 provinces,
# $4 size classes).
_GROUP_NAMES = """
($2::text[])[qi], CASE mi WHEN 0 THEN 'value' ELSE 'per_1000' END,
(ARRAY['national', 'province', 'size_class'])[ki + 1],
CASE ki WHEN 0 THEN '' WHEN 1 THEN ($3::text[])[gi] ELSE ($4::text[])[gi] END
"""

_NUMERIC_FIGURES = f"""
INSERT INTO benchmark_numeric (survey_id, question_key, measure, group_kind, group_key,
                               n, mean, median, q1, q3, min, max)
SELECT $1, {_GROUP_NAMES}, n, mean, p[2], p[1], p[3], lo, hi
FROM (
    SELECT qi, mi, ki, gi, count(*) AS n,
           -- summed in value order: the same figures whatever order the rows arrived in
           avg(x ORDER BY x) AS mean,
           percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY x) AS p,
           min(x) AS lo, max(x) AS hi
    FROM bm_values GROUP BY qi, mi, ki, gi
) AS g
"""

# Percentile rank: (values below + half of the values equal, itself included) / n * 100,
# which is the mean of rank()-1 and cume_dist() * n over n: one window, one sort. One row
# per organisation (thousands of rows, not millions): `slots` (qi * 2 + mi, ascending) and
# the ranks in each group at the same positions (province, size class: NULL when the
# organisation has no such group).
_RANKS = """
INSERT INTO benchmark_rank (survey_id, organisation_id, slots, national, province, size_class)
SELECT $1, organisation_id,
       array_agg(qi * 2 + mi ORDER BY qi, mi) FILTER (WHERE ki = 0),
       array_agg(pr ORDER BY qi, mi) FILTER (WHERE ki = 0),
       array_agg(pr ORDER BY qi, mi) FILTER (WHERE ki = 1),
       array_agg(pr ORDER BY qi, mi) FILTER (WHERE ki = 2)
FROM (
    SELECT organisation_id, qi, mi, ki,
           50.0 * ((rank() OVER w - 1)::float8 / count(*) OVER whole + cume_dist() OVER w)
           AS pr
    FROM bm_values
    WINDOW w AS (PARTITION BY qi, mi, ki, gi ORDER BY x),
           whole AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
) AS r
GROUP BY organisation_id
"""

_CHOICE_FIGURES = """
INSERT INTO benchmark_choice (survey_id, question_key, group_kind, group_key, option, n, count)
WITH c AS (
    SELECT a.question_key, a.organisation_id, a.option, o.province, o.size_class
    FROM answer_choice a LEFT JOIN organisation o ON o.id = a.organisation_id
    WHERE a.survey_id = $1
), g AS (
    SELECT question_key, 'national'::text AS group_kind, ''::text AS group_key,
           organisation_id, option FROM c
    UNION ALL
    SELECT question_key, 'province', province, organisation_id, option FROM c
    WHERE province IS NOT NULL
    UNION ALL
    SELECT question_key, 'size_class', size_class, organisation_id, option FROM c
    WHERE size_class IS NOT NULL
), n AS (
    SELECT question_key, group_kind, group_key, count(DISTINCT organisation_id) AS n
    FROM g GROUP BY question_key, group_kind, group_key
)
SELECT $1, g.question_key, g.group_kind, g.group_key, g.option, n.n, count(*)
FROM g JOIN n USING (question_key, group_kind, group_key)
GROUP BY g.question_key, g.group_kind, g.group_key, g.option, n.n
"""


async def compute_benchmarks(
    conn: Conn, survey_id: UUID, numeric_keys: Sequence[str], per_inhabitant: Sequence[str]
) -> int:
    """Replace the survey's figures with ones computed from the counted answers (in SQL).

    `numeric_keys`: every numeric question key of any of the survey's questionnaire
    versions. Call inside a transaction. Returns the number of counted submissions.
    """
    for table in ("benchmark_numeric", "benchmark_rank", "benchmark_choice"):
        await conn.execute(f"DELETE FROM {table} WHERE survey_id = $1", survey_id)
    keys = list(numeric_keys)
    per = [key in set(per_inhabitant) for key in keys]
    provinces = [r[0] for r in await conn.fetch("SELECT DISTINCT province FROM organisation")]
    sizes = [r[0] for r in await conn.fetch("SELECT DISTINCT size_class FROM organisation")]
    # Sorting a large survey's values in memory is much faster than on disk.
    await conn.execute("SET LOCAL work_mem = '512MB'")
    await conn.execute(_GROUP_VALUES, survey_id, keys, per, provinces, sizes)
    await conn.execute(_NUMERIC_FIGURES, survey_id, keys, provinces, sizes)
    await conn.execute(_RANKS, survey_id)
    await conn.execute("DROP TABLE bm_values")
    await conn.execute(_CHOICE_FIGURES, survey_id)
    counted: int = await conn.fetchval(
        "SELECT count(*) FROM counted_response WHERE survey_id = $1", survey_id
    )
    return counted


async def questionnaires(conn: Conn, survey_id: UUID) -> list[dict[str, Any]]:
    """Every questionnaire version of a survey, oldest first."""
    rows = await conn.fetch(
        "SELECT questionnaire FROM questionnaire_version WHERE survey_id = $1 ORDER BY version",
        survey_id,
    )
    return [r["questionnaire"] for r in rows]


async def announce_new(conn: Conn, survey_id: UUID, computed_at: datetime) -> list[UUID]:
    """Record report-ready for counted organisations not yet told; returns them."""
    rows = await conn.fetch(
        """
        INSERT INTO report_ready (survey_id, organisation_id, computed_at)
        SELECT c.survey_id, c.organisation_id, $2
        FROM counted_response c JOIN organisation o ON o.id = c.organisation_id
        WHERE c.survey_id = $1
        ON CONFLICT DO NOTHING
        RETURNING organisation_id
        """,
        survey_id,
        computed_at,
    )
    return [r["organisation_id"] for r in rows]


# --- reading a report --------------------------------------------------------------------------


async def get_organisation(conn: Conn, organisation_id: UUID) -> Row | None:
    """One organisation of the read model."""
    return await conn.fetchrow("SELECT * FROM organisation WHERE id = $1", organisation_id)


async def report_numeric(conn: Conn, survey_id: UUID, province: str, size_class: str) -> list[Row]:
    """The numeric group figures of an organisation's three groups."""
    return await conn.fetch(
        """
        SELECT * FROM benchmark_numeric
        WHERE survey_id = $1 AND (
            group_kind = 'national'
            OR (group_kind = 'province' AND group_key = $2)
            OR (group_kind = 'size_class' AND group_key = $3))
        """,
        survey_id,
        province,
        size_class,
    )


async def report_choice(conn: Conn, survey_id: UUID, province: str, size_class: str) -> list[Row]:
    """The choice distributions of an organisation's three groups."""
    return await conn.fetch(
        """
        SELECT * FROM benchmark_choice
        WHERE survey_id = $1 AND (
            group_kind = 'national'
            OR (group_kind = 'province' AND group_key = $2)
            OR (group_kind = 'size_class' AND group_key = $3))
        """,
        survey_id,
        province,
        size_class,
    )


async def report_ranks(
    conn: Conn, survey_id: UUID, organisation_id: UUID, numeric_keys: Sequence[str]
) -> dict[str, list[float | None]]:
    """The organisation's percentile ranks: "<question>|<measure>" → [national, province,
    size class]."""
    row = await conn.fetchrow(
        "SELECT * FROM benchmark_rank WHERE survey_id = $1 AND organisation_id = $2",
        survey_id,
        organisation_id,
    )
    if row is None:
        return {}
    out: dict[str, list[float | None]] = {}
    for i, slot in enumerate(row["slots"]):
        qi, mi = divmod(slot, 2)
        key = f"{numeric_keys[qi - 1]}|{'value' if mi == 0 else 'per_1000'}"
        out[key] = [
            row[kind][i] if row[kind] is not None else None
            for kind in ("national", "province", "size_class")
        ]
    return out


async def own_numeric(conn: Conn, survey_id: UUID, organisation_id: UUID) -> dict[str, float]:
    """The organisation's counted numeric answers."""
    rows = await conn.fetch(
        "SELECT question_key, value FROM answer_numeric"
        " WHERE survey_id = $1 AND organisation_id = $2",
        survey_id,
        organisation_id,
    )
    return {r["question_key"]: r["value"] for r in rows}


async def own_choice(conn: Conn, survey_id: UUID, organisation_id: UUID) -> dict[str, set[str]]:
    """The organisation's counted choice answers."""
    rows = await conn.fetch(
        "SELECT question_key, option FROM answer_choice"
        " WHERE survey_id = $1 AND organisation_id = $2",
        survey_id,
        organisation_id,
    )
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["question_key"], set()).add(r["option"])
    return out


# --- rebuild -----------------------------------------------------------------------------------


async def empty_read_models(conn: Conn) -> None:
    """Empty every read model (a rebuild); what was announced stays announced."""
    await conn.execute(f"TRUNCATE {', '.join(READ_MODEL_TABLES)}")
