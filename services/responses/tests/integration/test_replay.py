"""Reporting's rebuild: responses re-publishes every counted submission, through its outbox."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from bibmon_common.contracts.reporting import ReplayRequested

from .conftest import publish_as_surveys

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ANSWERS = {"leden": 1000, "uitleningen": 600, "heeft_vestigingen": False}


async def test_replay_request_republishes_the_latest_submission_not_returned(
    surveys, org, researcher, events, broker
):
    kept, returned, corrected, silent = org(), org(), org(), org()
    survey_id = await surveys.create([kept.id, returned.id, corrected.id, silent.id])
    await kept.answer_and_submit(survey_id, ANSWERS)
    await returned.answer_and_submit(survey_id, ANSWERS)
    remark = {"remark": "Klopt dit?"}
    assert (await researcher.act(survey_id, returned.id, "return", **remark)).status_code == 200
    first = await corrected.answer_and_submit(survey_id, ANSWERS)
    assert (await researcher.act(survey_id, corrected.id, "return", **remark)).status_code == 200
    assert (await corrected.put(survey_id, {"leden": 900}, first["version"])).status_code == 200
    assert (await corrected.submit(survey_id)).status_code == 200
    replay_id = uuid.uuid4()

    await publish_as_surveys(
        broker, ReplayRequested(replay_id=replay_id, requested_at=datetime.now(UTC))
    )

    replayed = "responses.submission.replayed.v1"
    one = await events.wait_for(replayed, survey_id=str(survey_id), organisation_id=str(kept.id))
    two = await events.wait_for(
        replayed, survey_id=str(survey_id), organisation_id=str(corrected.id)
    )
    assert one["submission"] == 1
    assert one["answers"] == ANSWERS
    assert two["submission"] == 2
    assert two["answers"]["leden"] == 900
    await asyncio.sleep(0.5)
    mine = [
        e["data"]
        for e in events.received
        if e["type"] == replayed and e["data"]["survey_id"] == str(survey_id)
    ]
    assert sorted(d["organisation_id"] for d in mine) == sorted([str(kept.id), str(corrected.id)])
    assert set(mine[0]) == {
        "response_id",
        "survey_id",
        "organisation_id",
        "submission",
        "submitted_at",
        "questionnaire_version",
        "answers",
    }
