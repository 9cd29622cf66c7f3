"""The copy of the surveys service's facts, kept from its events (through the real broker)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from bibmon_common.contracts.surveys import QuestionnairePublished, SurveyClosed, SurveyUpdated

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def _until_status(org, survey_id, status_code, within=10.0):
    for _ in range(int(within / 0.05)):
        resp = await org.get(survey_id)
        if resp.status_code == status_code:
            return resp
        await asyncio.sleep(0.05)
    raise AssertionError(f"GET never answered {status_code}")


async def test_a_survey_published_on_the_broker_becomes_answerable(surveys, org, pool):
    a = org()
    message = surveys.published([a.id])
    assert (await a.get(message.survey_id)).status_code == 404
    message_id = await surveys.publish(message)
    resp = await _until_status(a, message.survey_id, 200)
    assert resp.json()["status"] == "not_started"
    # Published again with the same id (a relay retry): the inbox takes it once.
    await surveys.publish(message, message_id=message_id)
    marker = surveys.published([a.id])
    await surveys.publish(marker)
    await _until_status(a, marker.survey_id, 200)
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = 'responses.events' AND message_id = $1",
            message_id,
        )
        == 1
    )


async def test_a_close_that_overtakes_the_publication_is_kept(surveys, org, clock):
    a = org()
    message = surveys.published([a.id])
    await surveys.publish(
        SurveyClosed(survey_id=message.survey_id, closed_at=clock.now(), by_hand=True)
    )
    await surveys.publish(message)
    await _until_status(a, message.survey_id, 200)
    resp = await a.put(message.survey_id, {"leden": 1}, 0)
    assert resp.status_code == 409
    assert resp.json()["detail"] == "survey is closed"


async def test_an_older_update_never_overwrites_a_newer_one(surveys, org, clock):
    a = org()
    message = surveys.published([a.id])
    now = clock.now()
    await surveys.handle(message, at=now)
    facts = message.model_dump(exclude={"questionnaire", "questionnaire_version"})
    # The deadline was moved earlier (now newer), then an older update arrives late.
    await surveys.handle(
        SurveyUpdated(**{**facts, "closes_at": now - timedelta(minutes=1)}),
        at=now + timedelta(seconds=2),
    )
    await surveys.handle(
        SurveyUpdated(**{**facts, "closes_at": now + timedelta(days=60)}),
        at=now + timedelta(seconds=1),
    )
    assert (await a.put(message.survey_id, {"leden": 1}, 0)).status_code == 409


async def test_an_update_of_an_unknown_survey_waits_for_its_questionnaire(surveys, org):
    a = org()
    message = surveys.published([a.id])
    facts = message.model_dump(exclude={"questionnaire", "questionnaire_version"})
    await surveys.handle(SurveyUpdated(**facts))
    # Facts without any questionnaire version: not published as far as responses knows.
    assert (await a.get(message.survey_id)).status_code == 404
    await surveys.handle(message)
    assert (await a.get(message.survey_id)).status_code == 200
    assert (await a.get(uuid.uuid4())).status_code == 404


async def test_a_questionnaire_version_that_overtakes_the_publication_is_kept(surveys, org):
    # docs/reliability.md 7: versions are inserted once, readers take the newest present.
    a = org()
    message = surveys.published([a.id])
    second = QuestionnairePublished(
        survey_id=message.survey_id, questionnaire_version=2, questionnaire=message.questionnaire
    )
    await surveys.handle(second)
    await surveys.handle(message)
    resp = await a.get(message.survey_id)
    assert resp.status_code == 200
    assert resp.json()["questionnaire_version"] == 2


async def test_an_update_that_overtakes_the_publication_is_not_undone_by_it(surveys, org, clock):
    a = org()
    message = surveys.published([a.id])
    now = clock.now()
    facts = message.model_dump(exclude={"questionnaire", "questionnaire_version"})
    # The deadline moved earlier after publication; the update arrives first.
    await surveys.handle(
        SurveyUpdated(**{**facts, "closes_at": now - timedelta(minutes=1)}),
        at=now + timedelta(seconds=1),
    )
    await surveys.handle(message, at=now)
    assert (await a.put(message.survey_id, {"leden": 1}, 0)).status_code == 409
