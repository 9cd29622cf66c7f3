"""A question keeps its key and type: across the versions of one survey (series or not)
and across the surveys of a series, also when two are published at the same moment."""

from __future__ import annotations

import asyncio
import copy
import uuid
from typing import Any

import pytest

from .conftest import API, QUESTIONNAIRE

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def _retyped(key: str = "boeken", type_: str = "short_text") -> dict[str, Any]:
    """QUESTIONNAIRE with question `key` turned into a `type_` question."""
    questionnaire = copy.deepcopy(QUESTIONNAIRE)
    for question in questionnaire["sections"][0]["questions"]:
        if question["key"] == key:
            question["type"] = type_
            question.pop("min", None)
    return questionnaire


def _without(key: str) -> dict[str, Any]:
    questionnaire = copy.deepcopy(QUESTIONNAIRE)
    section = questionnaire["sections"][0]
    section["questions"] = [q for q in section["questions"] if q["key"] != key]
    return questionnaire


async def _patch(api, surveys, survey_id, **body) -> Any:
    return await api.patch(f"{API}/surveys/{survey_id}", json=body, headers=surveys.researcher)


@pytest.mark.parametrize("series_key", [None, "eigen-versies"])
async def test_a_new_version_keeps_each_question_type(api, surveys, series_key):
    series = f"{series_key}-{uuid.uuid4().hex[:8]}" if series_key else None
    survey = await surveys.published(series_key=series)

    retyped = await _patch(api, surveys, survey["id"], questionnaire=_retyped())
    assert retyped.status_code == 422, retyped.text
    (error,) = retyped.json()["errors"]
    assert error["field"] == "questionnaire.boeken"
    assert error["type"] == "version_type_mismatch"
    assert "keeps its key and type" in error["message"]
    assert "version 1" in error["message"]

    # Dropping the question is a new version; bringing it back with another type is not.
    dropped = await _patch(api, surveys, survey["id"], questionnaire=_without("boeken"))
    assert dropped.status_code == 200, dropped.text
    assert dropped.json()["questionnaire_version"] == 2
    back = await _patch(api, surveys, survey["id"], questionnaire=_retyped())
    assert back.status_code == 422, back.text
    assert back.json()["errors"][0]["type"] == "version_type_mismatch"

    # Unchanged types and new keys are fine.
    grown = copy.deepcopy(QUESTIONNAIRE)
    grown["sections"][0]["questions"].append(
        {"key": "opmerking", "type": "long_text", "label": "Opmerking"}
    )
    accepted = await _patch(api, surveys, survey["id"], questionnaire=grown)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["questionnaire_version"] == 3


async def test_a_series_compares_with_the_other_surveys_too(api, surveys):
    series = f"reeks-{uuid.uuid4().hex[:8]}"
    await surveys.published(series_key=series)
    second = await surveys.published(series_key=series, questionnaire=_without("boeken"))
    # The second survey never had `boeken`, but the series has it as an integer question.
    response = await _patch(api, surveys, second["id"], questionnaire=_retyped())
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert (error["field"], error["type"]) == ("questionnaire.boeken", "series_type_mismatch")


async def test_two_publications_in_one_series_cannot_both_pass_the_check(api, surveys, ctx):
    series = f"gelijktijdig-{uuid.uuid4().hex[:8]}"
    as_integer = await surveys.create(series_key=series)
    as_text = await surveys.create(series_key=series, questionnaire=_retyped())

    async def publish(survey: dict[str, Any]) -> Any:
        return await api.post(f"{API}/surveys/{survey['id']}/publish", headers=surveys.researcher)

    # Hold the series lock, as a third publication in progress would.
    async with ctx.pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('bibmon-series:' || $1::text))", series
        )
        tasks = [asyncio.create_task(publish(s)) for s in (as_integer, as_text)]
        tasks.append(
            asyncio.create_task(
                api.post(
                    f"{API}/surveys",
                    json=surveys.body(series_key=series),
                    headers=surveys.researcher,
                )
            )
        )
        await asyncio.sleep(0.5)
        waiting = [not t.done() for t in tasks]
        await transaction.rollback()
    responses = await asyncio.gather(*tasks)
    assert waiting == [True, True, True], "publish and create must wait for the series lock"

    publications = responses[:2]
    assert sorted(r.status_code for r in publications) == [200, 422], [r.text for r in publications]
    (refused,) = [r for r in publications if r.status_code == 422]
    assert refused.json()["errors"][0]["type"] == "series_type_mismatch"
    created = responses[2]
    # The creation may take the lock before or after the publications: both are right ...
    assert created.status_code in {201, 422}, created.text
    if created.status_code == 422:
        # ... but only the published text version can refuse its integer question.
        assert publications[1].status_code == 200
        assert created.json()["errors"][0]["type"] == "series_type_mismatch"
