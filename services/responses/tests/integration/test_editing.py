"""Library staff edit their organisation's one response: autosave, merge, conflicts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bibmon_common.questionnaire import Questionnaire

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_a_response_not_started_is_empty_and_editable(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    resp = await a.get(survey_id)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "not_started"
    assert body["version"] == 0
    assert body["questionnaire_version"] == 1
    assert body["answers"] == {}
    assert body["organisation_id"] == str(a.id)
    assert body["can_edit"] is True
    assert body["can_submit"] is False
    assert body["warnings"] == []
    assert body["previous_answers"] == {}


async def test_a_save_changes_only_the_questions_sent(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    first = await a.put(survey_id, {"leden": 10, "budget": 12.5}, 0)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "draft"
    assert first.json()["version"] == 1
    second = await a.put(survey_id, {"budget": None, "soort": "klein"}, 1)
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["version"] == 2
    assert body["answers"] == {"leden": 10, "soort": "klein"}
    assert set(body["changed_at"]) == {"leden", "budget", "soort"}


async def test_two_stale_editors_of_different_questions_both_keep_their_answers(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    started = (await a.put(survey_id, {}, 0)).json()
    # Two colleagues opened the form at version 1.
    anna = await a.put(survey_id, {"leden": 1200}, started["version"])
    bram = await a.put(survey_id, {"uitleningen": 800}, started["version"])
    assert anna.status_code == 200, anna.text
    assert bram.status_code == 200, bram.text
    assert bram.json()["answers"] == {"leden": 1200, "uitleningen": 800}
    assert bram.json()["version"] == started["version"] + 2


async def test_a_stale_save_of_a_changed_question_is_409_and_writes_nothing(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    anna = (await a.put(survey_id, {"leden": 1200}, 0)).json()
    bram = await a.put(survey_id, {"leden": 900, "uitleningen": 800}, 0)
    assert bram.status_code == 409, bram.text
    assert bram.headers["content-type"] == "application/problem+json"
    problem = bram.json()
    assert problem["conflicts"] == [
        {"question": "leden", "current_value": 1200, "changed_at": anna["changed_at"]["leden"]}
    ]
    assert problem["version"] == anna["version"]
    after = (await a.get(survey_id)).json()
    assert after["answers"] == {"leden": 1200}
    assert after["version"] == anna["version"]


async def test_a_stale_save_sending_the_current_value_succeeds(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    await a.put(survey_id, {"leden": 1200}, 0)
    same = await a.put(survey_id, {"leden": 1200, "uitleningen": 5}, 0)
    assert same.status_code == 200, same.text
    assert same.json()["answers"] == {"leden": 1200, "uitleningen": 5}


async def test_concurrent_saves_of_different_questions_all_land(surveys, org):
    keys = [f"vraag_{i}" for i in range(20)]
    questionnaire = {
        "sections": [
            {
                "key": "s",
                "title": "Veel vragen",
                "questions": [{"key": k, "type": "integer", "label": k} for k in keys],
            }
        ]
    }
    a = org()
    survey_id = await surveys.create([a.id], questionnaire=questionnaire)
    # All start from "not started" (version 0), so the first saves also race to create it.
    results = await asyncio.gather(*(a.put(survey_id, {k: i}, 0) for i, k in enumerate(keys)))
    assert [r.status_code for r in results] == [200] * len(keys), [r.text for r in results]
    final = (await a.get(survey_id)).json()
    assert final["answers"] == {k: i for i, k in enumerate(keys)}
    assert final["version"] == len(keys)
    assert sorted(r.json()["version"] for r in results) == list(range(1, len(keys) + 1))


async def test_invalid_draft_answers_are_422_per_question(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    resp = await a.put(
        survey_id, {"leden": "veel", "soort": "middel", "onbekend": 3, "budget": 10.555}, 0
    )
    assert resp.status_code == 422, resp.text
    errors = {e["field"]: e for e in resp.json()["errors"]}
    assert set(errors) == {"answers.leden", "answers.soort", "answers.onbekend", "answers.budget"}
    assert errors["answers.leden"]["type"] == "type"
    assert errors["answers.leden"]["question"] == "leden"
    assert errors["answers.leden"]["message"] == "Vul een geheel getal in."
    assert errors["answers.leden"]["message_en"] == "Enter a whole number."
    assert errors["answers.soort"]["type"] == "option"
    assert errors["answers.onbekend"]["type"] == "unknown_question"
    # Nothing was started by the refused save.
    assert (await a.get(survey_id)).json()["status"] == "not_started"


async def test_a_draft_may_leave_required_questions_open_and_check_ranges(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    assert (await a.put(survey_id, {"opmerking": "later meer"}, 0)).status_code == 200
    resp = await a.put(survey_id, {"leden": -1}, 1)
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["type"] == "range"


async def test_a_response_stays_on_the_questionnaire_version_it_started_on(surveys, org):
    a, b = org(), org()
    survey_id = await surveys.create([a.id, b.id])
    assert (await a.put(survey_id, {"leden": 1}, 0)).status_code == 200
    v2: dict[str, Any] = Questionnaire.model_validate(
        {
            "sections": [
                {
                    "key": "nieuw",
                    "title": "Nieuw",
                    "questions": [{"key": "bezoekers", "type": "integer", "label": "Bezoekers"}],
                }
            ]
        }
    ).model_dump(mode="json")
    await surveys.new_version(survey_id, 2, v2)
    assert (await a.get(survey_id)).json()["questionnaire_version"] == 1
    # The started response is still checked against version 1 ...
    assert (await a.put(survey_id, {"bezoekers": 5}, 1)).status_code == 422
    assert (await a.put(survey_id, {"uitleningen": 5}, 1)).status_code == 200
    # ... and a new one starts on version 2.
    assert (await b.get(survey_id)).json()["questionnaire_version"] == 2
    started = await b.put(survey_id, {"bezoekers": 5}, 0)
    assert started.status_code == 200, started.text
    assert started.json()["questionnaire_version"] == 2


async def test_organisations_never_reach_surveys_or_responses_not_theirs(surveys, org, researcher):
    a, outsider = org(), org()
    survey_id = await surveys.create([a.id])
    await a.put(survey_id, {"leden": 1000}, 0)
    assert (await outsider.get(survey_id)).status_code == 404
    assert (await outsider.put(survey_id, {"leden": 1}, 0)).status_code == 404
    assert (await outsider.submit(survey_id)).status_code == 404
    unknown = await surveys.create([a.id])
    unknown = unknown.__class__(int=unknown.int ^ 1)  # an id no survey has
    assert (await a.get(unknown)).status_code == 404
    # Even a reviewer gets 404 for an organisation that does not take part.
    assert (await researcher.get(survey_id, outsider.id)).status_code == 404


async def test_library_staff_cannot_review_or_see_progress(surveys, org, client, keys):
    a = org()
    survey_id = await surveys.create([a.id])
    resp = await client.get(f"/api/responses/surveys/{survey_id}/progress", headers=a.headers)
    assert resp.status_code == 403
    # The reviewers' route names an organisation: for library staff it does not exist.
    resp = await client.get(
        f"/api/responses/surveys/{survey_id}/responses/{a.id}", headers=a.headers
    )
    assert resp.status_code == 404
    # And a reviewer has no "own" response.
    resp = await client.get(
        f"/api/responses/surveys/{survey_id}/response", headers=keys.auth("researcher")
    )
    assert resp.status_code == 403
    assert (await client.get(f"/api/responses/surveys/{survey_id}/response")).status_code == 401
