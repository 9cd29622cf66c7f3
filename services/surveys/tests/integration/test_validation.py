"""Bad input answers 422 problem+json, field by field."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime, timedelta

import httpx
import pytest

from .conftest import API, QUESTIONNAIRE

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def _rejected(api, surveys, **overrides) -> dict[str, dict]:
    response = await api.post(
        f"{API}/surveys", json=surveys.body(**overrides), headers=surveys.researcher
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"]: e for e in response.json()["errors"]}


async def test_mandatory_survey_needs_a_legal_basis(api, surveys):
    errors = await _rejected(api, surveys, mandatory=True, legal_basis=None)
    assert errors["legal_basis"]["type"] == "required"


async def test_subsidy_needs_the_scheme_named(api, surveys):
    errors = await _rejected(api, surveys, legal_basis="subsidy", legal_basis_name=None)
    assert errors["legal_basis_name"]["type"] == "required"


async def test_voluntary_survey_has_no_legal_basis(api, surveys):
    errors = await _rejected(
        api, surveys, mandatory=False, legal_basis="subsidy", legal_basis_name="Regeling"
    )
    assert errors["legal_basis"]["type"] == "not_allowed"
    assert errors["legal_basis_name"]["type"] == "not_allowed"


async def test_unknown_legal_basis_is_refused(api, surveys):
    errors = await _rejected(api, surveys, legal_basis="gemeente")
    assert "legal_basis" in errors


async def test_survey_closes_after_it_opens(api, surveys, clock):
    now = clock.now()
    errors = await _rejected(
        api,
        surveys,
        opens_at=(now + timedelta(days=5)).isoformat(),
        closes_at=(now + timedelta(days=4)).isoformat(),
    )
    assert errors["closes_at"]["type"] == "before_opens_at"


async def test_dates_need_a_time_zone(api, surveys):
    errors = await _rejected(api, surveys, opens_at=datetime(2027, 1, 1).isoformat())
    assert errors["opens_at"]["type"] == "timezone_aware"


async def test_duplicate_question_keys_are_refused(api, surveys):
    questionnaire = copy.deepcopy(QUESTIONNAIRE)
    questionnaire["sections"][0]["questions"][1]["key"] = "boeken"
    questionnaire["sections"][0]["questions"][2]["show_if"] = None
    errors = await _rejected(api, surveys, questionnaire=questionnaire)
    assert "used twice" in errors["questionnaire"]["message"]


async def test_show_if_must_name_an_earlier_question(api, surveys):
    questionnaire = copy.deepcopy(QUESTIONNAIRE)
    questionnaire["sections"][0]["questions"][0]["show_if"] = {
        "question": "heeft_ebooks",
        "equals": True,
    }
    errors = await _rejected(api, surveys, questionnaire=questionnaire)
    assert "earlier question" in errors["questionnaire"]["message"]


async def test_choice_question_needs_options(api, surveys):
    questionnaire = copy.deepcopy(QUESTIONNAIRE)
    questionnaire["sections"][0]["questions"].append(
        {"key": "soort", "type": "single_choice", "label": "Soort", "options": []}
    )
    errors = await _rejected(api, surveys, questionnaire=questionnaire)
    assert errors["questionnaire.sections.0.questions.3"]["message"].endswith("needs options")


async def test_unknown_participant_ids_are_named(api, surveys, organisations):
    known = await organisations.register()
    unknown = uuid.uuid4()
    errors = await _rejected(
        api,
        surveys,
        participants={"mode": "list", "organisation_ids": [str(known), str(unknown)]},
    )
    error = errors["participants.organisation_ids"]
    assert error["type"] == "unknown_organisation"
    assert str(unknown) in error["message"]
    assert str(known) not in error["message"]


async def test_unknown_province_and_size_class_are_refused(api, surveys):
    errors = await _rejected(api, surveys, participants={"mode": "filter", "provinces": ["Bayern"]})
    assert errors["participants.provinces.0"]["type"] == "unknown_province"
    errors = await _rejected(
        api, surveys, participants={"mode": "filter", "size_classes": ["huge"]}
    )
    assert any(field.startswith("participants.filter.size_classes") for field in errors)


async def test_patch_checks_the_merged_survey(api, surveys):
    draft = await surveys.create()
    response = await api.patch(
        f"{API}/surveys/{draft['id']}", headers=surveys.researcher, json={"mandatory": False}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "legal_basis"
    null_title = await api.patch(
        f"{API}/surveys/{draft['id']}", headers=surveys.researcher, json={"title": None}
    )
    assert null_title.status_code == 422
    assert null_title.json()["errors"][0]["field"] == "title"


async def test_publishing_an_incomplete_survey_says_what_is_missing(api, surveys, clock):
    now = clock.now()
    draft = await surveys.create(
        questionnaire=None,
        participants={"mode": "list", "organisation_ids": []},
        opens_at=(now - timedelta(days=10)).isoformat(),
        closes_at=(now - timedelta(days=1)).isoformat(),
    )
    response = await api.post(f"{API}/surveys/{draft['id']}/publish", headers=surveys.researcher)
    assert response.status_code == 422
    fields = {e["field"]: e["type"] for e in response.json()["errors"]}
    assert fields == {
        "questionnaire": "required",
        "closes_at": "in_the_past",
        "participants": "no_participants",
    }


async def test_unknown_survey_is_404(api, surveys):
    response = await api.get(f"{API}/surveys/{uuid.uuid4()}", headers=surveys.researcher)
    assert response.status_code == 404
    response = await api.post(f"{API}/surveys/{uuid.uuid4()}/publish", headers=surveys.researcher)
    assert response.status_code == 404


async def test_a_question_keeps_its_type_across_a_series(api, surveys):
    series = f"reeks-{uuid.uuid4().hex[:8]}"
    await surveys.published(series_key=series)
    changed = copy.deepcopy(QUESTIONNAIRE)
    first = changed["sections"][0]["questions"][0]
    assert first["type"] != "short_text"
    first.update({"type": "short_text", "min": None, "max": None, "unit": ""})
    first.pop("options", None)

    errors = await _rejected(api, surveys, series_key=series, questionnaire=changed)
    error = errors[f"questionnaire.{first['key']}"]
    assert error["type"] == "series_type_mismatch"
    assert series in error["message"]

    # Another series, or no series, may use the key for anything.
    other = await surveys.create(series_key=f"{series}-b", questionnaire=changed)
    assert other["series_key"] == f"{series}-b"
    # A draft that joins the series later is checked too.
    response = await api.patch(
        f"{API}/surveys/{other['id']}", json={"series_key": series}, headers=surveys.researcher
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["type"] == "series_type_mismatch"


# -- input PostgreSQL cannot store: a 422 naming the field, never a 500 --------------------


async def _post_raw(api, surveys, body: dict) -> httpx.Response:
    """POST with \\u escapes (json.dumps), so a lone surrogate reaches the service."""
    return await api.post(
        f"{API}/surveys",
        content=json.dumps(body),
        headers={**surveys.researcher, "content-type": "application/json"},
    )


def _with_label(label: str) -> dict:
    questionnaire = copy.deepcopy(QUESTIONNAIRE)
    questionnaire["sections"][0]["questions"][0]["label"] = label
    return questionnaire


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "Monitor\u00002026"}, "title"),
        ({"title": "Monitor\ud8002026"}, "title"),
        ({"description": "tekst\u0000"}, "description"),
        ({"description": "tekst\udfff"}, "description"),
        ({"legal_basis": "subsidy", "legal_basis_name": "Regeling\u0000"}, "legal_basis_name"),
        ({"questionnaire": _with_label("Aantal\u0000boeken")}, "label"),
        ({"questionnaire": _with_label("Aantal\ud800boeken")}, "label"),
        ({"participants": {"mode": "filter", "provinces": ["Utrecht\u0000"]}}, "provinces"),
    ],
)
async def test_text_with_nul_or_a_lone_surrogate_is_refused(api, surveys, overrides, field):
    response = await _post_raw(api, surveys, surveys.body(**overrides))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert any(
        field in e["field"] and e["type"] in {"forbidden_characters", "string_unicode"}
        for e in errors
    ), errors


async def test_a_new_questionnaire_version_with_nul_is_refused(api, surveys):
    survey = await surveys.published()
    response = await api.patch(
        f"{API}/surveys/{survey['id']}",
        content=json.dumps({"questionnaire": _with_label("Boeken\u0000")}),
        headers={**surveys.researcher, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["type"] == "forbidden_characters"
    same = await api.get(f"{API}/surveys/{survey['id']}", headers=surveys.researcher)
    assert same.json()["questionnaire_version"] == 1


async def test_a_huge_show_if_value_is_refused(api, surveys):
    questionnaire = {
        "sections": [
            {
                "key": "s",
                "title": "S",
                "questions": [
                    {"key": "ratio", "type": "decimal", "label": "Verhouding"},
                    {
                        "key": "n",
                        "type": "integer",
                        "label": "Aantal",
                        "show_if": {"question": "ratio", "equals": 10**400},
                    },
                ],
            }
        ]
    }
    errors = await _rejected(api, surveys, series_key=None, questionnaire=questionnaire)
    assert "does not fit" in errors["questionnaire"]["message"]


@pytest.mark.parametrize(
    "query",
    ["offset=100000000000000000000", "offset=1000001", "offset=-1", "limit=501", "limit=0"],
)
async def test_list_paging_is_bounded(api, surveys, query):
    response = await api.get(f"{API}/surveys?{query}", headers=surveys.researcher)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] in {"offset", "limit"}


async def test_list_paging_at_its_bounds_answers(api, surveys):
    response = await api.get(f"{API}/surveys?offset=1000000&limit=500", headers=surveys.researcher)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


@pytest.mark.parametrize("version", ["99999999999", str(2**31), "0"])
async def test_questionnaire_version_is_bounded(api, surveys, version):
    survey = await surveys.published()
    response = await api.get(
        f"{API}/surveys/{survey['id']}/questionnaire?version={version}",
        headers=surveys.researcher,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "version"
    largest = await api.get(
        f"{API}/surveys/{survey['id']}/questionnaire?version={2**31 - 1}",
        headers=surveys.researcher,
    )
    assert largest.status_code == 404


@pytest.mark.parametrize(
    ("opens_at", "closes_at", "fields"),
    [
        ("0001-01-01T00:00:00+14:00", "2027-01-01T00:00:00+00:00", {"opens_at"}),
        ("2027-01-01T00:00:00+00:00", "9999-12-31T23:00:00-14:00", {"closes_at"}),
        ("0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00", {"opens_at", "closes_at"}),
        ("1999-12-31T23:59:59+00:00", "2027-01-01T00:00:00+00:00", {"opens_at"}),
        ("2027-01-01T00:00:00+00:00", "2100-01-01T00:00:01+00:00", {"closes_at"}),
    ],
)
async def test_dates_lie_between_2000_and_2100(api, surveys, opens_at, closes_at, fields):
    errors = await _rejected(api, surveys, opens_at=opens_at, closes_at=closes_at)
    assert set(errors) == fields
    assert {e["type"] for e in errors.values()} == {"out_of_range"}


async def test_a_deadline_moved_past_2100_is_refused(api, surveys):
    survey = await surveys.published()
    response = await api.patch(
        f"{API}/surveys/{survey['id']}",
        json={"closes_at": "9999-12-31T23:00:00-14:00"},
        headers=surveys.researcher,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0] == {
        "field": "closes_at",
        "message": "The date must lie between 2000-01-01 and 2100-01-01 (UTC).",
        "type": "out_of_range",
    }
    edge = await api.patch(
        f"{API}/surveys/{survey['id']}",
        json={"closes_at": "2100-01-01T00:00:00+00:00"},
        headers=surveys.researcher,
    )
    assert edge.status_code == 200, edge.text
