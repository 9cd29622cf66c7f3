"""Submitting: complete and valid answers, inside the survey's window, explained warnings."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ANSWERS = {"leden": 1000, "uitleningen": 600, "heeft_vestigingen": False}


async def test_submit_refuses_missing_and_invalid_answers_per_question(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    await a.put(survey_id, {"leden": 10, "heeft_vestigingen": True}, 0)
    resp = await a.submit(survey_id)
    assert resp.status_code == 422, resp.text
    errors = {e["field"]: e for e in resp.json()["errors"]}
    # The conditional question is shown (heeft_vestigingen = true), so it is required.
    assert set(errors) == {"answers.uitleningen", "answers.aantal_vestigingen"}
    assert errors["answers.uitleningen"]["type"] == "required"
    assert errors["answers.uitleningen"]["message"] == "Deze vraag is verplicht."
    assert (await a.get(survey_id)).json()["status"] == "draft"


async def test_a_hidden_conditional_question_is_not_required(surveys, org, researcher):
    a = org()
    survey_id = await surveys.create([a.id])
    # Answered while shown, then hidden again: not required, and not part of the submission.
    await a.put(survey_id, {**ANSWERS, "heeft_vestigingen": True, "aantal_vestigingen": 3}, 0)
    view = (await a.put(survey_id, {"heeft_vestigingen": False}, 1)).json()
    assert view["can_submit"] is True
    # The body is optional: without warnings there is nothing to explain.
    resp = await a.client.post(
        f"/api/responses/surveys/{survey_id}/response/submit", headers=a.headers
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "submitted"
    assert body["submission"] == 1
    assert body["submitted_at"] is not None
    assert body["can_edit"] is False
    (snapshot,) = (await researcher.history(survey_id, a.id)).json()["items"]
    assert snapshot["answers"] == ANSWERS  # without the hidden aantal_vestigingen


async def test_submit_and_save_are_refused_before_the_survey_opens(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id], opens_in=timedelta(days=2))
    resp = await a.put(survey_id, ANSWERS, 0)
    assert resp.status_code == 409
    assert resp.json()["detail"] == "survey is not open yet"
    resp = await a.submit(survey_id)
    assert resp.status_code == 409
    assert resp.json()["detail"] == "survey is not open yet"
    assert (await a.get(survey_id)).json()["can_edit"] is False


async def test_submit_and_save_are_refused_after_the_deadline(surveys, org, clock):
    a = org()
    survey_id = await surveys.create([a.id], closes_in=timedelta(days=1))
    await a.put(survey_id, ANSWERS, 0)
    clock.advance(timedelta(days=1, seconds=1))
    resp = await a.submit(survey_id)
    assert resp.status_code == 409
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["detail"] == "survey is closed"
    assert (await a.put(survey_id, {"leden": 5}, 1)).status_code == 409
    view = (await a.get(survey_id)).json()
    assert view["can_edit"] is False
    assert view["answers"] == ANSWERS


async def test_a_survey_closed_by_hand_refuses_saves_and_submissions(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    await a.put(survey_id, ANSWERS, 0)
    await surveys.close(survey_id)
    assert (await a.submit(survey_id)).json()["detail"] == "survey is closed"
    assert (await a.put(survey_id, {"leden": 5}, 1)).status_code == 409


async def test_a_submitted_response_cannot_be_changed_until_returned(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    submitted = await a.answer_and_submit(survey_id, ANSWERS)
    resp = await a.put(survey_id, {"leden": 5}, submitted["version"])
    assert resp.status_code == 409
    assert "return or reopen" in resp.json()["detail"]
    assert (await a.submit(survey_id)).status_code == 409


async def test_the_deadline_moved_by_an_update_is_honoured(surveys, org, clock):
    from bibmon_common.contracts.surveys import SurveyUpdated

    a = org()
    published = surveys.published([a.id], closes_in=timedelta(hours=1))
    await surveys.handle(published)
    await a.put(published.survey_id, ANSWERS, 0)
    facts = published.model_dump(exclude={"questionnaire", "questionnaire_version"})
    later = clock.now() + timedelta(days=7)
    await surveys.handle(SurveyUpdated(**{**facts, "closes_at": later}))
    clock.advance(timedelta(hours=2))
    assert (await a.submit(published.survey_id)).status_code == 200
