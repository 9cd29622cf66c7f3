"""The national range and the previous answers are queried in SQL; they must equal the
reference in `domain` (the latest submission that was not returned counts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibmon_responses import repository as repo
from bibmon_responses.domain import Submitted, counted_answers, national_ranges

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

KEYS = ["leden", "uitleningen", "heeft_vestigingen", "opmerking"]
VALUES = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(-1e12, 1e12, allow_nan=False),
    st.booleans(),
    # text as stored answers hold it (validation refuses NUL and surrogates)
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=5),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
ANSWERS = st.dictionaries(st.sampled_from([*KEYS, "onbekend"]), VALUES, max_size=5)
REVIEWS = st.sampled_from([None, "accepted", "returned"])
# per organisation: one or more submissions, each perhaps reviewed; the latest that was
# not returned counts (none, when every one was returned)
SUBMISSIONS = st.lists(
    st.lists(st.builds(Submitted, ANSWERS, REVIEWS), min_size=1, max_size=3),
    min_size=0,
    max_size=6,
)


async def _store(
    pool: Any, survey_id: uuid.UUID, organisations: list[list[Submitted]]
) -> dict[uuid.UUID, list[Submitted]]:
    now = datetime.now(UTC)
    stored = {}
    async with pool.acquire() as conn, conn.transaction():
        for submissions in organisations:
            response_id, organisation_id = uuid.uuid4(), uuid.uuid4()
            await conn.execute(
                "INSERT INTO response (id, survey_id, organisation_id, status,"
                " questionnaire_version, submission, created_at, updated_at)"
                " VALUES ($1, $2, $3, 'submitted', 1, $4, $5, $5)",
                response_id,
                survey_id,
                organisation_id,
                len(submissions),
                now,
            )
            for number, submitted in enumerate(submissions, start=1):
                await conn.execute(
                    "INSERT INTO response_submission (response_id, submission,"
                    " questionnaire_version, answers, submitted_at, review, reviewed_at)"
                    " VALUES ($1, $2, 1, $3, $4, $5, $6)",
                    response_id,
                    number,
                    dict(submitted.answers),
                    now,
                    submitted.review,
                    None if submitted.review is None else now,
                )
            stored[organisation_id] = submissions
    return stored


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(organisations=SUBMISSIONS)
async def test_sql_national_ranges_equal_the_reference(surveys, pool, organisations):
    survey_id = await surveys.create([uuid.uuid4()])
    stored = await _store(pool, survey_id, organisations)
    async with pool.acquire() as conn:
        ranges = await repo.national_ranges(conn, survey_id, KEYS)
    expected = national_ranges(stored.values(), KEYS)
    assert ranges.keys() == expected.keys()
    for key, (low, high) in expected.items():
        assert ranges[key] == pytest.approx((low, high), rel=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(organisations=SUBMISSIONS)
async def test_sql_previous_answers_equal_the_reference(surveys, pool, organisations):
    survey_id = await surveys.create([uuid.uuid4()])
    stored = await _store(pool, survey_id, organisations)
    async with pool.acquire() as conn:
        every = await repo.latest_submitted_answers(conn, survey_id)
        one_by_one = {
            organisation_id: await repo.latest_submitted_answers(conn, survey_id, organisation_id)
            for organisation_id in stored
        }
    expected = {
        organisation_id: answers
        for organisation_id, history in stored.items()
        if (answers := counted_answers(history)) is not None
    }
    assert {r["organisation_id"]: r["answers"] for r in every} == expected
    for organisation_id, rows in one_by_one.items():
        assert [r["answers"] for r in rows] == (
            [expected[organisation_id]] if organisation_id in expected else []
        )
