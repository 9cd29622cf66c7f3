"""Surveys close at their deadline by the service's clock, announced exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from bibmon_common.db import create_pool
from bibmon_surveys.closer import SurveyCloser

from .conftest import API, outbox_count, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

CLOSED = "surveys.survey.closed.v1"


async def test_survey_closes_at_its_deadline_exactly_once(api, surveys, clock, closer, ctx, events):
    now = clock.now()
    survey = await surveys.published(
        opens_at=(now - timedelta(hours=1)).isoformat(),
        closes_at=(now + timedelta(hours=2)).isoformat(),
    )
    assert survey["status"] == "open"
    assert await closer.run_once() == []

    clock.advance(timedelta(hours=2))
    # The background loop runs too (every 0.1 s); three more closers race it.
    results = await asyncio.gather(*(closer.run_once() for _ in range(3)))
    await wait_until(lambda: outbox_count(ctx, CLOSED, survey["id"]))
    await asyncio.sleep(0.3)  # a few more background rounds
    assert await outbox_count(ctx, CLOSED, survey["id"]) == 1
    assert sum(uuid.UUID(survey["id"]) in r for r in results) <= 1

    (event,) = await events.wait("surveys.survey.closed.v1", survey["id"])
    assert event["by_hand"] is False
    assert event["closed_at"].startswith(survey["closes_at"][:19])
    closed = (await api.get(f"{API}/surveys/{survey['id']}", headers=surveys.researcher)).json()
    assert closed["status"] == "closed"
    assert closed["closed_at"] == closed["closes_at"]
    late = await api.post(f"{API}/surveys/{survey['id']}/close", headers=surveys.researcher)
    assert late.status_code == 409
    await asyncio.sleep(0.2)
    assert len(events.of("surveys.survey.closed.v1", survey["id"])) == 1


async def test_closing_by_hand_and_the_closer_race_without_a_second_event(
    api, surveys, clock, closer, ctx
):
    now = clock.now()
    survey = await surveys.published(closes_at=(now + timedelta(days=3)).isoformat())
    clock.advance(timedelta(days=2, hours=23, minutes=59, seconds=59))
    closing = api.post(f"{API}/surveys/{survey['id']}/close", headers=surveys.researcher)
    response, *_ = await asyncio.gather(closing, closer.run_once(), closer.run_once())
    assert response.status_code == 200
    clock.advance(timedelta(seconds=5))
    await closer.run_once()
    assert await outbox_count(ctx, CLOSED, survey["id"]) == 1


async def test_deadline_in_the_past_cannot_be_set_after_publishing(api, surveys, clock):
    survey = await surveys.published()
    response = await api.patch(
        f"{API}/surveys/{survey['id']}",
        headers=surveys.researcher,
        json={"closes_at": (clock.now() - timedelta(minutes=1)).isoformat()},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "in_the_past"


async def test_closer_survives_a_database_error(deps):
    """A round that fails (here: a closed pool) is logged; the loop goes on."""
    broken = await create_pool(deps.settings.database_url)
    await broken.close()
    loop_closer = SurveyCloser(dataclasses.replace(deps, pool=broken), poll_seconds=0.02)
    with capture_logs() as logs:
        task = asyncio.create_task(loop_closer.run())
        await wait_until(
            lambda: asyncio.sleep(0, [e for e in logs if e["event"] == "closer.failed"][1:])
        )
        assert not task.done()
        loop_closer.deps = deps  # the database is back
        await asyncio.sleep(0.1)
        failures = sum(e["event"] == "closer.failed" for e in logs)
        await asyncio.sleep(0.1)
        assert sum(e["event"] == "closer.failed" for e in logs) == failures
        assert not task.done()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
