"""Who may do what: researchers and KB admins manage; library staff see their own surveys."""

from __future__ import annotations

import uuid

import pytest

from .conftest import API

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_unauthenticated_is_401(api):
    assert (await api.get(f"{API}/surveys")).status_code == 401
    assert (await api.post(f"{API}/surveys", json={})).status_code == 401


async def test_library_staff_may_not_write(api, surveys, keys, organisations):
    organisation = await organisations.register()
    staff = keys.auth("library_staff", organisation_id=organisation)
    survey = await surveys.published()
    assert (await api.post(f"{API}/surveys", json=surveys.body(), headers=staff)).status_code == 403
    assert (
        await api.patch(f"{API}/surveys/{survey['id']}", json={"title": "x"}, headers=staff)
    ).status_code == 403
    assert (
        await api.post(f"{API}/surveys/{survey['id']}/publish", headers=staff)
    ).status_code == 403
    assert (await api.post(f"{API}/surveys/{survey['id']}/close", headers=staff)).status_code == 403
    participants = await api.get(f"{API}/surveys/{survey['id']}/participants", headers=staff)
    assert participants.status_code == 403


async def test_kb_admin_manages_like_a_researcher(api, surveys, keys):
    admin = keys.auth("kb_admin")
    created = await api.post(f"{API}/surveys", json=surveys.body(), headers=admin)
    assert created.status_code == 201
    published = await api.post(f"{API}/surveys/{created.json()['id']}/publish", headers=admin)
    assert published.status_code == 200


async def test_staff_see_only_published_surveys_of_their_organisation(
    api, surveys, keys, organisations
):
    ours = await organisations.register(province="Drenthe")
    theirs = await organisations.register(province="Drenthe")
    staff = keys.auth("library_staff", organisation_id=ours)
    our_survey = await surveys.published(
        participants={"mode": "list", "organisation_ids": [str(ours)]}
    )
    their_survey = await surveys.published(
        participants={"mode": "list", "organisation_ids": [str(theirs)]}
    )
    our_draft = await surveys.create(participants={"mode": "list", "organisation_ids": [str(ours)]})

    listed = await api.get(f"{API}/surveys", headers=staff)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["items"]] == [our_survey["id"]]
    assert listed.json()["total"] == 1

    one = await api.get(f"{API}/surveys/{our_survey['id']}", headers=staff)
    assert one.status_code == 200
    assert one.json()["status"] == "scheduled"
    assert one.json()["closes_at"] == our_survey["closes_at"]
    questionnaire = await api.get(f"{API}/surveys/{our_survey['id']}/questionnaire", headers=staff)
    assert questionnaire.status_code == 200
    assert questionnaire.json()["version"] == 1

    for hidden in (their_survey, our_draft):
        assert (await api.get(f"{API}/surveys/{hidden['id']}", headers=staff)).status_code == 404
        assert (
            await api.get(f"{API}/surveys/{hidden['id']}/questionnaire", headers=staff)
        ).status_code == 404

    other_staff = keys.auth("library_staff", organisation_id=theirs)
    assert (
        await api.get(f"{API}/surveys/{our_survey['id']}", headers=other_staff)
    ).status_code == 404


async def test_staff_without_organisation_see_nothing(api, surveys, keys):
    await surveys.published()
    nobody = keys.auth("library_staff")
    listed = await api.get(f"{API}/surveys", headers=nobody)
    assert listed.json() == {"items": [], "total": 0, "limit": 100, "offset": 0}


async def test_researchers_see_drafts_too(api, surveys):
    draft = await surveys.create()
    listed = await api.get(f"{API}/surveys?status=draft&limit=500", headers=surveys.researcher)
    assert draft["id"] in {s["id"] for s in listed.json()["items"]}
    one = await api.get(f"{API}/surveys/{draft['id']}", headers=surveys.researcher)
    assert one.status_code == 200
    unknown = await api.get(
        f"{API}/surveys/{uuid.uuid4()}/participants", headers=surveys.researcher
    )
    assert unknown.status_code == 404
