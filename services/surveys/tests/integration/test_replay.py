"""Reporting's rebuild: surveys re-publishes every published survey, through its outbox."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bibmon_common.contracts.reporting import ReplayRequested
from bibmon_common.testing.amqp import publish_as

from .conftest import API, QUESTIONNAIRE

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_replay_request_republishes_each_published_survey_with_every_version(
    api, surveys, clock, events, amqp_url
):
    now = clock.now()
    closed = await surveys.published(
        opens_at=(now - timedelta(days=2)).isoformat(),
        closes_at=(now + timedelta(days=2)).isoformat(),
    )
    changed = copy.deepcopy(QUESTIONNAIRE)
    changed["sections"][0]["questions"].append(
        {"key": "leden", "type": "integer", "label": "Aantal leden", "per_inhabitant": True}
    )
    patched = await api.patch(
        f"{API}/surveys/{closed['id']}", headers=surveys.researcher, json={"questionnaire": changed}
    )
    assert patched.status_code == 200, patched.text
    closing = await api.post(f"{API}/surveys/{closed['id']}/close", headers=surveys.researcher)
    assert closing.status_code == 200, closing.text
    still_open = await surveys.published()
    draft = await surveys.create()

    await publish_as(
        amqp_url,
        ReplayRequested(replay_id=uuid.uuid4(), requested_at=datetime.now(UTC)),
        source="test/reporting",
        connection_name="surveys-test-reporting",
    )

    (replayed,) = await events.wait("surveys.survey.replayed.v1", closed["id"])
    assert [v["version"] for v in replayed["questionnaire_versions"]] == [1, 2]
    assert replayed["questionnaire_versions"][1]["questionnaire"]["sections"][0]["questions"][-1][
        "per_inhabitant"
    ]
    assert replayed["closed_at"] is not None
    assert replayed["title"] == closed["title"]
    assert replayed["participants"]  # resolved at publication: every registered organisation
    (open_one,) = await events.wait("surveys.survey.replayed.v1", still_open["id"])
    assert open_one["closed_at"] is None
    assert events.of("surveys.survey.replayed.v1", draft["id"]) == []
