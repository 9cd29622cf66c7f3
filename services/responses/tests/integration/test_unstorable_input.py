"""Input PostgreSQL cannot store (NUL, lone surrogates, 400-digit numbers) is a 422 naming
the field, never a 500; nothing of it is written."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .conftest import API, VALID_ANSWERS

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def _send(who: Any, method: str, url: str, body: Any) -> httpx.Response:
    """`body` as JSON with \\u escapes (json.dumps), so a lone surrogate travels too."""
    return await who.client.request(
        method,
        url,
        content=json.dumps(body),
        headers={**who.headers, "content-type": "application/json"},
    )


@pytest.mark.parametrize(
    ("answers", "question", "code", "message"),
    [
        ({"opmerking": "a\u0000b"}, "opmerking", "type", "niet zijn toegestaan"),
        ({"opmerking": "a\ud800b"}, "opmerking", "type", "niet zijn toegestaan"),
        ({"soort": "klein\u0000"}, "soort", "type", "niet zijn toegestaan"),
        ({"leden": 10**400}, "leden", "range", "Dit getal is te groot."),
        ({"leden": -(10**400)}, "leden", "range", "Dit getal is te groot."),
        ({"budget": 10**400}, "budget", "range", "Dit getal is te groot."),
        ({"budget": 1e300}, "budget", "range", "Dit getal is te groot."),
    ],
)
async def test_an_answer_postgresql_cannot_store_is_a_422_per_question(
    surveys, org, answers, question, code, message
):
    a = org()
    survey_id = await surveys.create([a.id])
    url = f"{API}/surveys/{survey_id}/response"
    response = await _send(a, "PUT", url, {"answers": answers, "version": 0})
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == f"answers.{question}"
    assert error["type"] == code
    assert message in error["message"]
    assert error["message_en"]
    view = (await a.get(survey_id)).json()
    assert (view["status"], view["version"], view["answers"]) == ("not_started", 0, {})


async def test_a_huge_version_is_a_conflict_not_an_error(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    response = await a.put(survey_id, {"leden": 1}, 10**31)
    assert response.status_code == 409, response.text
    assert response.json()["version"] == 0


@pytest.mark.parametrize(
    "explanations",
    [{"leden": "x\u0000y"}, {"leden": "x\ud800y"}, {"k\u0000": "uitleg"}, {"k": "x\u0000y"}],
)
async def test_an_explanation_postgresql_cannot_store_is_refused(surveys, org, explanations):
    a = org()
    survey_id = await surveys.create([a.id])
    saved = await a.put(survey_id, VALID_ANSWERS, 0)
    assert saved.status_code == 200, saved.text
    url = f"{API}/surveys/{survey_id}/response/submit"
    response = await _send(a, "POST", url, {"explanations": explanations})
    assert response.status_code == 422, response.text
    assert all(e["field"].startswith("explanations") for e in response.json()["errors"])
    assert (await a.get(survey_id)).json()["status"] == "draft"


@pytest.mark.parametrize("text", ["fix\u0000it", "fix\udc00it"])
async def test_a_remark_or_reason_postgresql_cannot_store_is_refused(
    surveys, org, researcher, text
):
    a = org()
    survey_id = await surveys.create([a.id])
    await a.answer_and_submit(survey_id, VALID_ANSWERS)
    base = f"{API}/surveys/{survey_id}/responses/{a.id}"
    returned = await _send(researcher, "POST", f"{base}/return", {"remark": text})
    assert returned.status_code == 422, returned.text
    assert returned.json()["errors"][0]["field"] == "remark"
    assert (await researcher.get(survey_id, a.id)).json()["status"] == "submitted"

    await surveys.close(survey_id)
    reopened = await _send(researcher, "POST", f"{base}/reopen", {"reason": text})
    assert reopened.status_code == 422, reopened.text
    assert reopened.json()["errors"][0]["field"] == "reason"
    assert (await researcher.get(survey_id, a.id)).json()["status"] == "submitted"


async def test_a_lone_surrogate_in_an_answer_key_is_a_422_not_a_500(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    # Raw bytes as a client sends them: json.dumps escapes the lone surrogate as \ud800.
    body = json.dumps({"answers": {"k\ud800": 1}, "version": 0}, ensure_ascii=True).encode()
    assert b"\\ud800" in body
    response = await a.client.put(
        f"{API}/surveys/{survey_id}/response",
        content=body,
        headers={**a.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"].startswith("answers.")
    view = (await a.get(survey_id)).json()
    assert (view["status"], view["version"], view["answers"]) == ("not_started", 0, {})


PATTERN = "string_pattern_mismatch"
BAD_KEYS = [
    ("Leden", PATTERN),
    ("le-den", PATTERN),
    ("1leden", PATTERN),
    ("", PATTERN),
    ("leden\n", PATTERN),
    ("k" * 65, "string_too_long"),
]


@pytest.mark.parametrize(("key", "code"), BAD_KEYS)
async def test_an_answer_key_outside_the_key_pattern_is_a_422(surveys, org, key, code):
    a = org()
    survey_id = await surveys.create([a.id])
    response = await a.put(survey_id, {key: 1}, 0)
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert (error["field"], error["type"]) == (f"answers.{key}.[key]", code)
    assert (await a.get(survey_id)).json()["version"] == 0


@pytest.mark.parametrize(("key", "code"), BAD_KEYS)
async def test_an_explanation_key_outside_the_key_pattern_is_a_422(surveys, org, key, code):
    a = org()
    survey_id = await surveys.create([a.id])
    assert (await a.put(survey_id, VALID_ANSWERS, 0)).status_code == 200
    response = await a.submit(survey_id, {key: "Een toelichting"})
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert (error["field"], error["type"]) == (f"explanations.{key}.[key]", code)
    assert (await a.get(survey_id)).json()["status"] == "draft"


async def test_a_lone_surrogate_in_an_explanation_key_is_a_422_not_a_500(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    saved = await a.put(survey_id, VALID_ANSWERS, 0)
    assert saved.status_code == 200, saved.text
    body = json.dumps({"explanations": {"k\ud800": "uitleg"}}, ensure_ascii=True).encode()
    response = await a.client.post(
        f"{API}/surveys/{survey_id}/response/submit",
        content=body,
        headers={**a.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert all(e["field"].startswith("explanations.") for e in response.json()["errors"])
    assert (await a.get(survey_id)).json()["status"] == "draft"
