"""Plausibility: answers far from last time's figures need an explanation to be submitted."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

DAY = timedelta(days=1)

BASE = {"heeft_vestigingen": False}


async def _series(surveys, org, series_key):
    """A previous survey of the series, answered by three organisations, and the current one."""
    a, b, c = org(), org(), org()
    previous = await surveys.create(
        [a.id, b.id, c.id], series_key=series_key, opens_in=timedelta(days=-400)
    )
    await a.answer_and_submit(previous, {**BASE, "leden": 1000, "uitleningen": 600})
    await b.answer_and_submit(previous, {**BASE, "leden": 2000, "uitleningen": 800})
    await c.answer_and_submit(previous, {**BASE, "leden": 1500, "uitleningen": 500})
    current = await surveys.create([a.id, b.id, c.id], series_key=series_key)
    return a, b, c, previous, current


async def test_previous_answers_and_a_differs_from_previous_warning_are_shown(surveys, org):
    a, _, _, _, current = await _series(surveys, org, "bm-differs")
    view = (await a.get(current)).json()
    assert view["previous_answers"] == {**BASE, "leden": 1000, "uitleningen": 600}
    saved = (await a.put(current, {**BASE, "leden": 1600, "uitleningen": 620}, 0)).json()
    assert saved["warnings"] == [
        {
            "question": "leden",
            "code": "differs_from_previous",
            "previous_value": 1000,
            "message": saved["warnings"][0]["message"],
            "message_en": saved["warnings"][0]["message_en"],
        }
    ]
    assert "50%" in saved["warnings"][0]["message"]
    assert "1000" in saved["warnings"][0]["message"]


async def test_a_warning_needs_an_explanation_which_reaches_history_and_event(
    surveys, org, researcher, events
):
    a, _, _, _, current = await _series(surveys, org, "bm-explain")
    await a.put(current, {**BASE, "leden": 2600, "uitleningen": 610}, 0)
    refused = await a.submit(current)
    assert refused.status_code == 422, refused.text
    errors = refused.json()["errors"]
    assert [e["field"] for e in errors] == ["explanations.leden"]
    assert errors[0]["type"] == "explanation_required"
    assert (await a.submit(current, {"leden": "ok"})).status_code == 422  # too short
    explanation = "Nieuwe vestiging in de wijk geopend."
    done = await a.submit(current, {"leden": explanation})
    assert done.status_code == 200, done.text
    assert done.json()["explanations"] == {"leden": explanation}

    history = (await researcher.history(current, a.id)).json()
    (snapshot,) = history["items"]
    assert snapshot["explanations"] == {"leden": explanation}
    assert snapshot["warnings"][0]["question"] == "leden"
    review = (await researcher.get(current, a.id)).json()
    assert review["explanations"] == {"leden": explanation}
    assert review["warnings"][0]["code"] == "differs_from_previous"
    event = await events.wait_for("responses.response.submitted.v1", survey_id=str(current))
    assert event["explanations"] == {"leden": explanation}

    # Returned for another figure: the explanation of the first submission still counts.
    await researcher.act(current, a.id, "return", remark="Controleer de uitleningen.")
    await a.put(current, {"uitleningen": 615}, done.json()["version"])
    again = await a.submit(current)
    assert again.status_code == 200, again.text
    assert again.json()["explanations"] == {"leden": explanation}


async def test_a_value_far_outside_the_national_range_is_warned(surveys, org):
    await _series(surveys, org, "bm-national")
    newcomer = org()  # took no part last time: only the national range applies
    # Opened before the series' current survey, after the answered one: that one is previous.
    survey_id = await surveys.create(
        [newcomer.id], series_key="bm-national", opens_in=timedelta(days=-2)
    )
    view = (await newcomer.put(survey_id, {**BASE, "leden": 4500, "uitleningen": 1600}, 0)).json()
    assert view["previous_answers"] == {}
    assert [(w["question"], w["code"]) for w in view["warnings"]] == [
        ("leden", "outside_national_range")
    ]  # 1600 = 800 * 2 is just inside; 4500 > 2000 * 2 is not
    low = (await newcomer.put(survey_id, {"leden": 400, "uitleningen": 240}, 1)).json()
    assert [w["question"] for w in low["warnings"]] == ["leden", "uitleningen"]


async def test_explanations_must_name_questions_of_the_questionnaire(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    await a.put(survey_id, {**BASE, "leden": 1, "uitleningen": 1}, 0)
    resp = await a.submit(survey_id, {"bestaat_niet": "Een toelichting"})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "explanations.bestaat_niet"


async def test_a_returned_submission_counts_neither_in_the_range_nor_as_previous_answer(
    surveys, org, researcher
):
    """A's typo (10,000,000 members) was returned and never resubmitted: it is no figure."""
    series = "bm-returned-typo"
    a, b, d, c = org(), org(), org(), org()
    previous = await surveys.create([a.id, b.id, d.id], series_key=series, opens_in=-400 * DAY)
    await a.answer_and_submit(previous, {**BASE, "leden": 10_000_000, "uitleningen": 600})
    returned = await researcher.act(previous, a.id, "return", remark="Controleer het ledental.")
    assert returned.status_code == 200, returned.text
    await b.answer_and_submit(previous, {**BASE, "leden": 1000, "uitleningen": 800})
    accepted = await researcher.act(previous, b.id, "accept")
    assert accepted.status_code == 200, accepted.text
    await d.answer_and_submit(previous, {**BASE, "leden": 2000, "uitleningen": 500})  # unreviewed
    current = await surveys.create([a.id, b.id, c.id, d.id], series_key=series)

    # C took no part last time; 5,000,000 lies far above 2000 (the range without the typo).
    view = (await c.put(current, {**BASE, "leden": 5_000_000, "uitleningen": 700}, 0)).json()
    assert view["previous_answers"] == {}
    assert [(w["question"], w["code"]) for w in view["warnings"]] == [
        ("leden", "outside_national_range")
    ]
    assert "2000" in view["warnings"][0]["message_en"]
    assert "10000000" not in view["warnings"][0]["message_en"]

    # A's returned typo is not A's previous answer either.
    mine = (await a.put(current, {**BASE, "leden": 1500, "uitleningen": 600}, 0)).json()
    assert mine["previous_answers"] == {}
    assert mine["warnings"] == []
    # The accepted and the unreviewed submissions do count as previous answers.
    assert (await b.get(current)).json()["previous_answers"]["leden"] == 1000
    assert (await d.get(current)).json()["previous_answers"]["leden"] == 2000


async def test_after_a_returned_correction_the_accepted_submission_counts(surveys, org, researcher):
    """Accepted 1000, reopened, corrected to a typo that was returned: 1000 still counts."""
    series = "bm-returned-correction"
    a, b, c = org(), org(), org()
    previous = await surveys.create([a.id, b.id], series_key=series, opens_in=-400 * DAY)
    await a.answer_and_submit(previous, {**BASE, "leden": 1000, "uitleningen": 600})
    assert (await researcher.act(previous, a.id, "accept")).status_code == 200
    await b.answer_and_submit(previous, {**BASE, "leden": 2000, "uitleningen": 800})
    await surveys.close(previous)
    reopened = await researcher.act(previous, a.id, "reopen", reason="Correctie ledental.")
    assert reopened.status_code == 200, reopened.text
    await a.answer_and_submit(previous, {"leden": 10_000_000})
    assert (await researcher.act(previous, a.id, "return", remark="Typfout?")).status_code == 200
    history = (await researcher.history(previous, a.id)).json()["items"]
    assert [(i["submission"], i["review"]) for i in history] == [(1, "accepted"), (2, "returned")]
    current = await surveys.create([a.id, b.id, c.id], series_key=series)

    assert (await a.get(current)).json()["previous_answers"]["leden"] == 1000
    view = (await c.put(current, {**BASE, "leden": 4500, "uitleningen": 700}, 0)).json()
    assert [(w["question"], w["code"]) for w in view["warnings"]] == [
        ("leden", "outside_national_range")
    ]  # 4500 > 2000 * 2: the range is 1000 to 2000, not up to the returned 10,000,000
