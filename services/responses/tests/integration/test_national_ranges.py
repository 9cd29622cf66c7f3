"""The national range is aggregated in SQL; it must equal the reference in `domain`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibmon_responses import repository as repo
from bibmon_responses.domain import national_ranges

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
# per organisation: one or more submissions, the latest counts
SUBMISSIONS = st.lists(st.lists(ANSWERS, min_size=1, max_size=3), min_size=0, max_size=6)


async def _store(pool: Any, survey_id: uuid.UUID, organisations: list[list[dict]]) -> list[dict]:
    now = datetime.now(UTC)
    latest = []
    async with pool.acquire() as conn, conn.transaction():
        for submissions in organisations:
            response_id = uuid.uuid4()
            await conn.execute(
                "INSERT INTO response (id, survey_id, organisation_id, status,"
                " questionnaire_version, submission, created_at, updated_at)"
                " VALUES ($1, $2, $3, 'submitted', 1, $4, $5, $5)",
                response_id,
                survey_id,
                uuid.uuid4(),
                len(submissions),
                now,
            )
            for number, answers in enumerate(submissions, start=1):
                await conn.execute(
                    "INSERT INTO response_submission (response_id, submission,"
                    " questionnaire_version, answers, submitted_at) VALUES ($1, $2, 1, $3, $4)",
                    response_id,
                    number,
                    answers,
                    now,
                )
            latest.append(submissions[-1])
    return latest


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(organisations=SUBMISSIONS)
async def test_sql_national_ranges_equal_the_reference(surveys, pool, organisations):
    survey_id = await surveys.create([uuid.uuid4()])
    latest = await _store(pool, survey_id, organisations)
    async with pool.acquire() as conn:
        ranges = await repo.national_ranges(conn, survey_id, KEYS)
    expected = national_ranges(latest, KEYS)
    assert ranges.keys() == expected.keys()
    for key, (low, high) in expected.items():
        assert ranges[key] == pytest.approx((low, high), rel=1e-12)
