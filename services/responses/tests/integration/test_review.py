"""Researchers review submissions: accept, return with a remark, reopen after closing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ANSWERS = {"leden": 1000, "uitleningen": 600, "heeft_vestigingen": False}


async def test_return_resubmit_accept_and_history_with_events_on_the_broker(
    surveys, org, researcher, events
):
    a = org()
    survey_id = await surveys.create([a.id])
    assert (await researcher.act(survey_id, a.id, "accept")).status_code == 409  # not started
    first = await a.answer_and_submit(survey_id, ANSWERS)
    submitted = await events.wait_for(
        "responses.response.submitted.v1", survey_id=str(survey_id), submission=1
    )
    assert submitted["organisation_id"] == str(a.id)
    assert submitted["answers"] == ANSWERS
    assert submitted["questionnaire_version"] == 1

    returned = await researcher.act(
        survey_id, a.id, "return", remark="Het aantal leden lijkt te hoog."
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    event = await events.wait_for("responses.response.returned.v1", survey_id=str(survey_id))
    assert event["remark"] == "Het aantal leden lijkt te hoog."
    assert event["submission"] == 1

    view = (await a.get(survey_id)).json()
    assert view["status"] == "returned"
    assert view["remark"] == "Het aantal leden lijkt te hoog."
    assert view["can_edit"] is True
    assert (await researcher.act(survey_id, a.id, "accept")).status_code == 409  # returned
    fixed = await a.put(survey_id, {"leden": 900}, first["version"])
    assert fixed.status_code == 200, fixed.text
    assert (await a.submit(survey_id)).json()["submission"] == 2

    accepted = await researcher.act(survey_id, a.id, "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    event = await events.wait_for("responses.response.accepted.v1", survey_id=str(survey_id))
    assert event["submission"] == 2
    again = await researcher.act(survey_id, a.id, "accept")
    assert again.status_code == 409
    assert "accepted" in again.json()["detail"]
    assert (await researcher.act(survey_id, a.id, "return", remark="x")).status_code == 409
    assert (await a.put(survey_id, {"leden": 1}, fixed.json()["version"])).status_code == 409

    history = (await researcher.history(survey_id, a.id)).json()
    assert [s["submission"] for s in history["items"]] == [1, 2]
    one, two = history["items"]
    assert one["answers"]["leden"] == 1000
    assert one["review"] == "returned"
    assert one["remark"] == "Het aantal leden lijkt te hoog."
    assert two["answers"]["leden"] == 900
    assert two["review"] == "accepted"


async def test_reopen_lets_an_organisation_correct_after_closing(
    surveys, org, researcher, kb_admin, events
):
    a, late = org(), org()
    survey_id = await surveys.create([a.id, late.id])
    await a.answer_and_submit(survey_id, ANSWERS)
    # While the survey is open, a researcher returns instead of reopening.
    assert (await kb_admin.act(survey_id, a.id, "reopen", reason="correctie")).status_code == 409
    await surveys.close(survey_id)

    reopened = await kb_admin.act(survey_id, a.id, "reopen", reason="Correctie uitleningen")
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "reopened"
    event = await events.wait_for("responses.response.reopened.v1", survey_id=str(survey_id))
    assert event["organisation_id"] == str(a.id)
    assert event["reason"] == "Correctie uitleningen"
    assert (await kb_admin.act(survey_id, a.id, "reopen", reason="nog eens")).status_code == 409

    view = (await a.get(survey_id)).json()
    assert view["can_edit"] is True
    saved = await a.put(survey_id, {"uitleningen": 650}, view["version"])
    assert saved.status_code == 200, saved.text
    resubmitted = await a.submit(survey_id)
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["submission"] == 2
    # The correction was submitted: the closed survey refuses further changes.
    assert (await a.put(survey_id, {"uitleningen": 1}, saved.json()["version"])).status_code == 409
    await events.wait_for("responses.response.submitted.v1", survey_id=str(survey_id), submission=2)

    # An organisation that never started can be given a late response too.
    assert (await late.put(survey_id, ANSWERS, 0)).status_code == 409
    assert (await researcher.act(survey_id, late.id, "reopen", reason="Te laat")).status_code == 200
    await late.answer_and_submit(survey_id, ANSWERS)


async def test_the_review_view_shows_the_full_response(surveys, org, researcher):
    a = org()
    survey_id = await surveys.create([a.id])
    await a.answer_and_submit(survey_id, ANSWERS)
    resp = await researcher.get(survey_id, a.id)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["answers"] == ANSWERS
    assert body["status"] == "submitted"
    assert "explanations" in body
    assert "warnings" in body
    assert (await researcher.get(survey_id, uuid.uuid4())).status_code == 404


async def test_progress_counts_every_participant(surveys, org, researcher, kb_admin):
    a, b, c, d = org(), org(), org(), org()
    survey_id = await surveys.create([a.id, b.id, c.id, d.id])
    await a.answer_and_submit(survey_id, ANSWERS)
    await b.put(survey_id, {"leden": 3}, 0)
    await d.answer_and_submit(survey_id, ANSWERS)
    await researcher.act(survey_id, d.id, "accept")
    resp = await researcher.progress(survey_id)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["total"] == 4
    assert body["counts"] == {
        "not_started": 1,
        "draft": 1,
        "submitted": 1,
        "accepted": 1,
        "returned": 0,
        "reopened": 0,
    }
    by_org = {o["organisation_id"]: o for o in body["organisations"]}
    assert by_org[str(c.id)]["status"] == "not_started"
    assert by_org[str(c.id)]["updated_at"] is None
    assert by_org[str(a.id)]["submission"] == 1
    assert (await kb_admin.progress(survey_id)).status_code == 200
    assert (await researcher.progress(uuid.uuid4())).status_code == 404


# The role matrix (docs/reliability.md 5.7), as a table: who may do what to another
# organisation's response. Library staff reach only their own (another organisation's
# response is 404; progress is 403); a kb_admin follows progress and may reopen but
# reads no answers; a researcher reads and reviews.
ROLE_MATRIX = [
    # (route, kb_admin, researcher, library_staff of another organisation)
    ("GET", "", 403, 200, 404),
    ("GET", "/history", 403, 200, 404),
    ("POST", "/accept", 403, 200, 404),
    ("POST", "/return", 403, 200, 404),
    ("POST", "/reopen", 200, 409, 404),  # the researcher comes second
    ("GET", "progress", 200, 200, 403),
]


@pytest.mark.parametrize(
    ("method", "route", "kb_admin_code", "researcher_code", "staff_code"), ROLE_MATRIX
)
async def test_role_matrix(
    surveys, org, researcher, kb_admin, method, route, kb_admin_code, researcher_code, staff_code
):
    a, other = org(), org()
    survey_id = await surveys.create([a.id, other.id])
    await a.answer_and_submit(survey_id, ANSWERS)
    if route == "/reopen":
        await surveys.close(survey_id)
    if route == "progress":
        url = f"/api/responses/surveys/{survey_id}/progress"
    else:
        url = f"/api/responses/surveys/{survey_id}/responses/{a.id}{route}"
    body = {"/return": {"remark": "Graag controleren."}, "/reopen": {"reason": "Correctie."}}.get(
        route, {} if method == "POST" else None
    )
    for who, expected in (
        (kb_admin, kb_admin_code),
        (other, staff_code),
        (researcher, researcher_code),
    ):
        resp = await who.client.request(method, url, headers=who.headers, json=body)
        assert resp.status_code == expected, (who, route, resp.text)
        if who is kb_admin and resp.status_code == 200:
            assert "answers" not in resp.json(), "a kb_admin reads no answers"


async def test_a_response_returned_after_closing_can_be_corrected(
    surveys, org, researcher, clock, events
):
    a = org()
    survey_id = await surveys.create([a.id], closes_in=timedelta(days=2))
    await a.answer_and_submit(survey_id, ANSWERS)
    clock.advance(timedelta(days=3))  # past closes_at; the survey is closed

    returned = await researcher.act(
        survey_id, a.id, "return", remark="Het aantal uitleningen klopt niet."
    )
    assert returned.status_code == 200, returned.text
    await events.wait_for("responses.response.returned.v1", survey_id=str(survey_id))

    # The "Graag aanpassen" e-mail asks for a correction: the organisation can make it.
    view = (await a.get(survey_id)).json()
    assert (view["status"], view["can_edit"]) == ("returned", True)
    fixed = await a.put(survey_id, {"uitleningen": 650}, view["version"])
    assert fixed.status_code == 200, fixed.text
    resubmitted = await a.submit(survey_id)
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["submission"] == 2

    history = (await researcher.history(survey_id, a.id)).json()
    assert [(s["submission"], s["review"]) for s in history["items"]] == [
        (1, "returned"),
        (2, None),
    ]
    assert history["items"][1]["answers"]["uitleningen"] == 650

    # Returned once more (still closed): editable again; accepted: the correction ends.
    again = await researcher.act(survey_id, a.id, "return", remark="Nog een keer.")
    assert again.status_code == 200, again.text
    assert (await a.get(survey_id)).json()["can_edit"] is True
    await a.submit(survey_id)
    assert (await researcher.act(survey_id, a.id, "accept")).status_code == 200
    final = (await a.get(survey_id)).json()
    assert (final["status"], final["can_edit"]) == ("accepted", False)
    assert (await a.put(survey_id, {"uitleningen": 1}, final["version"])).status_code == 409


async def test_a_response_returned_while_open_stays_correctable_after_the_deadline(
    surveys, org, researcher, clock
):
    a = org()
    survey_id = await surveys.create([a.id], closes_in=timedelta(days=2))
    await a.answer_and_submit(survey_id, ANSWERS)
    assert (await researcher.act(survey_id, a.id, "return", remark="Graag.")).status_code == 200
    assert (await a.get(survey_id)).json()["can_edit"] is True
    clock.advance(timedelta(days=3))  # the deadline passes before the correction
    view = (await a.get(survey_id)).json()
    assert (view["status"], view["can_edit"], view["can_submit"]) == ("returned", True, True)
    saved = await a.put(survey_id, {"leden": 990}, view["version"])
    assert saved.status_code == 200, saved.text
    assert (await a.submit(survey_id)).status_code == 200
    # The correction is in; the closed survey refuses further changes.
    after = (await a.get(survey_id)).json()
    assert (after["status"], after["can_edit"]) == ("submitted", False)
    assert (await a.put(survey_id, {"leden": 1}, after["version"])).status_code == 409
