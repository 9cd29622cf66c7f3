"""The service as operators see it: health, OpenAPI, and logs without answers."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_ready_with_database_and_broker_and_typed_openapi(client):
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    spec = (await client.get("/api/responses/openapi.json")).json()
    paths = spec["paths"]
    assert "/api/responses/surveys/{survey_id}/response" in paths
    assert "/api/responses/surveys/{survey_id}/response/submit" in paths
    assert "/api/responses/surveys/{survey_id}/progress" in paths
    for action in ("accept", "return", "reopen", "history"):
        assert (
            f"/api/responses/surveys/{{survey_id}}/responses/{{organisation_id}}/{action}" in paths
        )
    ok = paths["/api/responses/surveys/{survey_id}/response"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ResponseOut"
    }


async def test_a_submission_is_logged_by_ids_never_with_answers(surveys, org):
    a = org()
    survey_id = await surveys.create([a.id])
    with capture_logs() as logs:
        await a.answer_and_submit(
            survey_id, {"leden": 987654, "uitleningen": 600, "heeft_vestigingen": False}
        )
    (entry,) = [e for e in logs if e["event"] == "response.submitted"]
    assert entry["survey_id"] == str(survey_id)
    assert entry["organisation_id"] == str(a.id)
    assert "987654" not in repr(logs)
