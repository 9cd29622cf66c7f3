"""Design, publish, change and close a survey; the events reach the broker."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta

import pytest

from .conftest import API, QUESTIONNAIRE

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_draft_is_created_and_changed_freely(api, surveys):
    draft = await surveys.create(
        mandatory=False, legal_basis=None, participants={"mode": "list", "organisation_ids": []}
    )
    assert draft["status"] == "draft"
    assert draft["participant_ids"] is None
    assert draft["questionnaire_version"] is None
    assert draft["published_at"] is None
    changed = await api.patch(
        f"{API}/surveys/{draft['id']}",
        headers=surveys.researcher,
        json={
            "mandatory": True,
            "legal_basis": "subsidy",
            "legal_basis_name": "Regeling specifieke uitkering bibliotheekvernieuwing",
            "series_key": "subsidie-2027",
            "participants": {"mode": "filter", "provinces": ["friesland"]},
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["legal_basis"] == "subsidy"
    assert body["participants"] == {
        "mode": "filter",
        "provinces": ["Fryslân"],
        "size_classes": [],
    }
    assert body["updated_at"] >= draft["updated_at"]
    fetched = await api.get(f"{API}/surveys/{draft['id']}", headers=surveys.researcher)
    assert fetched.json() == body


async def test_publishing_freezes_version_1_and_participants_and_announces_them(
    api, surveys, organisations, events
):
    member = await organisations.register(province="Zeeland", size_class="small")
    survey = await surveys.create()
    published = await surveys.publish(survey["id"])
    assert published["status"] == "scheduled"
    assert published["questionnaire_version"] == 1
    assert member in {uuid.UUID(i) for i in published["participant_ids"]}

    (event,) = await events.wait("surveys.survey.published.v1", survey["id"])
    assert event["questionnaire_version"] == 1
    assert event["mandatory"] is True
    assert event["legal_basis"] == "wsob"
    assert event["series_key"] == "wsob-jaarlijks"
    assert sorted(event["participants"]) == sorted(published["participant_ids"])
    assert [q["key"] for q in event["questionnaire"]["sections"][0]["questions"]] == [
        "boeken",
        "heeft_ebooks",
        "ebooks",
    ]
    version = await api.get(
        f"{API}/surveys/{survey['id']}/questionnaire?version=1", headers=surveys.researcher
    )
    assert version.status_code == 200
    assert version.json()["version"] == 1

    again = await api.post(f"{API}/surveys/{survey['id']}/publish", headers=surveys.researcher)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_survey_opens_at_opens_at(api, surveys, clock):
    survey = await surveys.published(opens_at=clock.now().isoformat())
    assert survey["status"] == "open"
    listed = await api.get(f"{API}/surveys?status=open", headers=surveys.researcher)
    assert survey["id"] in {s["id"] for s in listed.json()["items"]}
    scheduled = await api.get(f"{API}/surveys?status=scheduled", headers=surveys.researcher)
    assert survey["id"] not in {s["id"] for s in scheduled.json()["items"]}


async def test_changing_the_questionnaire_after_publishing_adds_a_version(api, surveys, events):
    survey = await surveys.published()
    changed = copy.deepcopy(QUESTIONNAIRE)
    changed["sections"][0]["questions"].append(
        {"key": "leden", "type": "integer", "label": "Aantal leden", "min": 0}
    )
    patched = await api.patch(
        f"{API}/surveys/{survey['id']}",
        headers=surveys.researcher,
        json={"questionnaire": changed},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["questionnaire_version"] == 2
    (event,) = await events.wait("surveys.questionnaire.published.v1", survey["id"])
    assert event["questionnaire_version"] == 2
    assert event["questionnaire"]["sections"][0]["questions"][-1]["key"] == "leden"

    v1 = await api.get(
        f"{API}/surveys/{survey['id']}/questionnaire?version=1", headers=surveys.researcher
    )
    v2 = await api.get(f"{API}/surveys/{survey['id']}/questionnaire", headers=surveys.researcher)
    assert len(v1.json()["questionnaire"]["sections"][0]["questions"]) == 3
    assert v2.json()["version"] == 2
    assert len(v2.json()["questionnaire"]["sections"][0]["questions"]) == 4
    missing = await api.get(
        f"{API}/surveys/{survey['id']}/questionnaire?version=3", headers=surveys.researcher
    )
    assert missing.status_code == 404

    same = await api.patch(
        f"{API}/surveys/{survey['id']}",
        headers=surveys.researcher,
        json={"questionnaire": changed},
    )
    assert same.json()["questionnaire_version"] == 2  # unchanged: no new version


async def test_published_versions_are_frozen_in_the_database(ctx, surveys):
    survey = await surveys.published()
    async with ctx.pool.acquire() as conn:
        with pytest.raises(Exception, match="frozen"):
            await conn.execute(
                "UPDATE questionnaire_version SET questionnaire = '{}' WHERE survey_id = $1",
                uuid.UUID(survey["id"]),
            )


async def test_title_and_deadline_change_after_publishing_with_all_facts(
    api, surveys, clock, events
):
    survey = await surveys.published()
    closes_at = (clock.now() + timedelta(days=45)).isoformat()
    patched = await api.patch(
        f"{API}/surveys/{survey['id']}",
        headers=surveys.researcher,
        json={"title": "Monitor 2027", "closes_at": closes_at, "mandatory": True},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["questionnaire_version"] == 1
    (event,) = await events.wait("surveys.survey.updated.v1", survey["id"])
    assert event["title"] == "Monitor 2027"
    assert event["legal_basis"] == "wsob"
    assert event["participants"] == survey["participant_ids"]
    assert event["closes_at"].startswith(closes_at[:19])


async def test_frozen_facts_cannot_change_after_publishing(api, surveys, clock):
    survey = await surveys.published()
    response = await api.patch(
        f"{API}/surveys/{survey['id']}",
        headers=surveys.researcher,
        json={
            "mandatory": False,
            "legal_basis": None,
            "opens_at": (clock.now() + timedelta(days=2)).isoformat(),
            "participants": {"mode": "filter", "size_classes": ["small"]},
            "series_key": "andere-reeks",
        },
    )
    assert response.status_code == 422
    fields = {e["field"]: e for e in response.json()["errors"]}
    assert set(fields) == {"mandatory", "legal_basis", "opens_at", "participants", "series_key"}
    assert fields["opens_at"]["type"] == "frozen"
    assert "published" in fields["opens_at"]["message"]


async def test_close_by_hand_once_then_nothing_changes(api, surveys, events):
    survey = await surveys.published()
    closed = await api.post(f"{API}/surveys/{survey['id']}/close", headers=surveys.researcher)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None
    (event,) = await events.wait("surveys.survey.closed.v1", survey["id"])
    assert event["by_hand"] is True

    again = await api.post(f"{API}/surveys/{survey['id']}/close", headers=surveys.researcher)
    assert again.status_code == 409
    patch = await api.patch(
        f"{API}/surveys/{survey['id']}", headers=surveys.researcher, json={"title": "Te laat"}
    )
    assert patch.status_code == 409
    listed = await api.get(f"{API}/surveys?status=closed", headers=surveys.researcher)
    assert survey["id"] in {s["id"] for s in listed.json()["items"]}


async def test_a_draft_cannot_be_closed(api, surveys):
    draft = await surveys.create()
    response = await api.post(f"{API}/surveys/{draft['id']}/close", headers=surveys.researcher)
    assert response.status_code == 409


async def test_list_filters_by_series_and_orders_by_opening_latest_first(api, surveys, clock):
    series = f"reeks-{uuid.uuid4().hex[:8]}"
    now = clock.now()
    early = await surveys.create(series_key=series, opens_at=(now + timedelta(days=2)).isoformat())
    late = await surveys.create(series_key=series, opens_at=(now + timedelta(days=9)).isoformat())
    listed = await api.get(f"{API}/surveys?series_key={series}", headers=surveys.researcher)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["items"]] == [late["id"], early["id"]]
    assert listed.json()["total"] == 2


async def test_openapi_documents_the_survey_schema(api):
    spec = (await api.get(f"{API}/openapi.json")).json()
    assert "SurveyOut" in spec["components"]["schemas"]
    ok = spec["paths"][f"{API}/surveys/{{survey_id}}"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/SurveyOut")
