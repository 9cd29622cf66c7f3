"""The save path reads nothing per organisation: the national range is kept per survey and
follows every change to its submissions; participation is a row per organisation."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bibmon_responses import repository as repo

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def _submit(pool: Any, survey_id: uuid.UUID, answers: dict[str, Any]) -> uuid.UUID:
    """A new organisation's response with one submission (written as SQL, no service)."""
    now = datetime.now(UTC)
    response_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO response (id, survey_id, organisation_id, status,"
            " questionnaire_version, submission, created_at, updated_at)"
            " VALUES ($1, $2, $3, 'submitted', 1, 1, $4, $4)",
            response_id,
            survey_id,
            uuid.uuid4(),
            now,
        )
        await conn.execute(
            "INSERT INTO response_submission (response_id, submission, questionnaire_version,"
            " answers, submitted_at) VALUES ($1, 1, 1, $2, $3)",
            response_id,
            answers,
            now,
        )
    return response_id


async def _kept(pool: Any, survey_id: uuid.UUID) -> Any:
    async with pool.acquire() as conn:
        return await conn.fetchrow(
            "SELECT generation, computed_generation, ranges FROM national_range"
            " WHERE survey_id = $1",
            survey_id,
        )


async def _ranges(pool: Any, survey_id: uuid.UUID) -> dict[str, tuple[float, float]]:
    async with pool.acquire() as conn:
        return await repo.national_ranges(conn, survey_id, ["leden", "uitleningen"])


async def test_a_survey_without_submissions_has_no_range_and_keeps_nothing(surveys, pool):
    survey_id = await surveys.create([uuid.uuid4()])
    assert await _ranges(pool, survey_id) == {}
    assert await _kept(pool, survey_id) is None


async def test_the_range_is_computed_once_and_kept_until_a_submission_changes(surveys, pool):
    survey_id = await surveys.create([uuid.uuid4()])
    await _submit(pool, survey_id, {"leden": 100, "uitleningen": 50})
    await _submit(pool, survey_id, {"leden": 300})
    assert await _ranges(pool, survey_id) == {"leden": (100.0, 300.0), "uitleningen": (50, 50)}
    kept = await _kept(pool, survey_id)
    assert kept["computed_generation"] == kept["generation"]
    assert kept["ranges"] == {"leden": [100, 300], "uitleningen": [50, 50]}

    # Reading again takes the kept range: nothing is recomputed, nothing changes.
    assert await _ranges(pool, survey_id) == {"leden": (100.0, 300.0), "uitleningen": (50, 50)}
    assert await _kept(pool, survey_id) == kept

    # A new submission makes it stale; the next reader sees it included.
    late = await _submit(pool, survey_id, {"leden": 5000})
    stale = await _kept(pool, survey_id)
    assert stale["generation"] > kept["generation"]
    assert stale["computed_generation"] == kept["generation"]
    assert (await _ranges(pool, survey_id))["leden"] == (100.0, 5000.0)

    # Returned, that submission no longer counts: the range shrinks back.
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE response_submission SET review = 'returned', reviewed_at = now()"
            " WHERE response_id = $1",
            late,
        )
    assert (await _ranges(pool, survey_id))["leden"] == (100.0, 300.0)

    # A deleted response takes its submission with it.
    biggest = await _submit(pool, survey_id, {"leden": 9000})
    assert (await _ranges(pool, survey_id))["leden"] == (100.0, 9000.0)
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM response WHERE id = $1", biggest)
    assert (await _ranges(pool, survey_id))["leden"] == (100.0, 300.0)


async def test_a_range_computed_while_a_submission_commits_is_not_kept(surveys, pool):
    survey_id = await surveys.create([uuid.uuid4()])
    await _submit(pool, survey_id, {"leden": 100})
    response_id, now = uuid.uuid4(), datetime.now(UTC)
    async with pool.acquire() as writer:
        transaction = writer.transaction()
        await transaction.start()
        await writer.execute(
            "INSERT INTO response (id, survey_id, organisation_id, status,"
            " questionnaire_version, submission, created_at, updated_at)"
            " VALUES ($1, $2, $3, 'submitted', 1, 1, $4, $4)",
            response_id,
            survey_id,
            uuid.uuid4(),
            now,
        )
        await writer.execute(
            "INSERT INTO response_submission (response_id, submission, questionnaire_version,"
            " answers, submitted_at) VALUES ($1, 1, 1, $2, $3)",
            response_id,
            {"leden": 700},
            now,
        )
        # A reader computes from a snapshot without the new submission, then waits to
        # store it until the writer's transaction ends ...
        reader = asyncio.create_task(_ranges(pool, survey_id))
        await asyncio.sleep(0.5)
        assert not reader.done()
        await transaction.commit()
        # ... and answers what its snapshot held, but keeps nothing: the generation moved.
        assert await reader == {"leden": (100.0, 100.0)}
    kept = await _kept(pool, survey_id)
    assert kept["computed_generation"] != kept["generation"]
    assert await _ranges(pool, survey_id) == {"leden": (100.0, 700.0)}


async def test_participation_follows_the_latest_survey_facts(surveys, pool):
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    survey_id = uuid.uuid4()
    now = datetime.now(UTC)

    async def facts(participants: list[uuid.UUID], at: datetime) -> None:
        async with pool.acquire() as conn:
            await repo.upsert_survey(
                conn,
                survey_id=survey_id,
                series_key=None,
                opens_at=now,
                closes_at=now + timedelta(days=30),
                participants=participants,
                source_time=at,
            )

    async def participants() -> set[uuid.UUID]:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT organisation_id FROM survey_participant WHERE survey_id = $1", survey_id
            )
        return {r["organisation_id"] for r in rows}

    await facts([a, b, b], now)
    assert await participants() == {a, b}
    await facts([b, c], now + timedelta(seconds=2))
    assert await participants() == {b, c}
    # An older event that arrives late changes nothing (as for the survey row itself).
    await facts([a], now + timedelta(seconds=1))
    assert await participants() == {b, c}
