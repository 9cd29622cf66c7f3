"""Demo data: the two demo surveys appear once the organisations have arrived, exactly once.

On a database of its own (so the session's surveys stay as the other tests expect them),
with the real outbox relay publishing to the session's vhost; the seeding is the one
`bibmon-demo seed` (development only, services/demo) runs against the surveys database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from structlog.testing import capture_logs

from bibmon_common.auth import Principal
from bibmon_common.clock import FrozenClock
from bibmon_common.db import create_pool
from bibmon_common.deps import event_source
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.outbox import OutboxRelay
from bibmon_common.testing.db import fresh_database
from bibmon_demo import surveys as demo
from bibmon_demo.data import (
    DEMO_CLOSED_SURVEY_ID,
    DEMO_OPEN_SURVEY_ID,
    DEMO_QUESTIONNAIRE,
    DEMO_SERIES_KEY,
)
from bibmon_surveys import usecases
from bibmon_surveys.config import SurveysSettings
from bibmon_surveys.deps import SurveysDeps
from bibmon_surveys.main import MIGRATIONS_DIR

from .conftest import EventLog, Organisations, outbox_count, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

PUBLISHED = "surveys.survey.published.v1"
CLOSED = "surveys.survey.closed.v1"


class DemoService:
    def __init__(self, deps: SurveysDeps, events: EventLog) -> None:
        self.ctx = deps
        self.events = events


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def demo_service(amqp_url: str, events: EventLog) -> AsyncIterator[DemoService]:
    """A fresh surveys database with the relay running and the demo task started."""
    async with fresh_database("bibmon_surveys_demo", migrations_dir=MIGRATIONS_DIR) as dsn:
        settings = SurveysSettings(
            environment="test", database_url=dsn, amqp_url=amqp_url, load_demo_data=True
        )
        pool = await create_pool(dsn)
        broker = Broker(amqp_url, "bibmon-surveys-demo-test")
        await broker.connect()
        relay = OutboxRelay(pool, broker, poll_interval=0.1)
        await relay.start()
        deps = SurveysDeps(
            pool=pool,
            clock=FrozenClock(datetime(2026, 11, 28, 16, 30, tzinfo=UTC)),
            source=event_source("surveys"),
            settings=settings,
        )
        task = asyncio.create_task(
            demo.seed_when_ready(deps, settle_seconds=0.3, wait_seconds=20), name="surveys-demo"
        )
        try:
            yield DemoService(deps, events)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await relay.stop()
            await broker.close()
            await pool.close()


async def _survey_count(ctx: SurveysDeps) -> int:
    async with ctx.pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM survey"))


async def test_demo_surveys_wait_for_the_organisations_then_appear_with_their_events(
    demo_service,
):
    ctx = demo_service.ctx
    assert ctx.settings.demo_enabled
    await asyncio.sleep(0.5)
    assert await _survey_count(ctx) == 0, "no organisations yet: nothing is created"

    organisations = Organisations(ctx)
    ids = [await organisations.register("Utrecht", "medium") for _ in range(2)]
    await asyncio.sleep(0.1)
    ids.append(await organisations.register("Fryslân", "small"))  # a late one still counts
    await wait_until(lambda: _survey_count(ctx), within=5)
    assert await _survey_count(ctx) == 2

    now = ctx.clock.now()
    researcher = Principal(
        user_id=uuid.uuid4(),
        roles=frozenset({"researcher"}),
        organisation_id=None,
        scope="full",
        mfa=True,
    )
    listed = await usecases.list_surveys(
        ctx, researcher, status=None, series_key=None, limit=10, offset=0
    )
    # As the API answers them.
    by_id = {str(s.id): s.model_dump(mode="json") for s in listed.items}
    closed, open_ = by_id[str(DEMO_CLOSED_SURVEY_ID)], by_id[str(DEMO_OPEN_SURVEY_ID)]
    assert closed["title"] == "Wsob-gegevenslevering 2025"
    assert open_["title"] == "Wsob-gegevenslevering 2026"
    assert closed["status"] == "closed"
    assert open_["status"] == "open"
    for survey in (closed, open_):
        assert survey["series_key"] == DEMO_SERIES_KEY
        assert survey["mandatory"] is True
        assert survey["legal_basis"] == "wsob"
        assert survey["participants"] == {"mode": "all"}
        assert sorted(survey["participant_ids"]) == sorted(str(i) for i in ids)
        assert survey["questionnaire_version"] == 1
        assert survey["questionnaire"] == DEMO_QUESTIONNAIRE.model_dump(mode="json")
    assert closed["closed_at"] == closed["closes_at"]
    assert open_["closed_at"] is None
    closes = datetime.fromisoformat(closed["closes_at"])
    assert timedelta(days=290) < now - closes < timedelta(days=320)
    assert timedelta(days=380) < now - datetime.fromisoformat(closed["opens_at"])
    assert now - datetime.fromisoformat(open_["opens_at"]) < timedelta(days=7, hours=1)
    assert datetime.fromisoformat(open_["closes_at"]) - now >= timedelta(days=59)

    events = demo_service.events
    (published_closed,) = await events.wait(PUBLISHED, DEMO_CLOSED_SURVEY_ID)
    (published_open,) = await events.wait(PUBLISHED, DEMO_OPEN_SURVEY_ID)
    (closing,) = await events.wait(CLOSED, DEMO_CLOSED_SURVEY_ID)
    assert sorted(published_closed["participants"]) == sorted(str(i) for i in ids)
    assert published_open["questionnaire_version"] == 1
    assert published_open["series_key"] == DEMO_SERIES_KEY
    assert closing["by_hand"] is False
    assert datetime.fromisoformat(closing["closed_at"]) == closes
    assert not events.of(CLOSED, DEMO_OPEN_SURVEY_ID)


async def test_seeding_again_creates_nothing(demo_service):
    ctx = demo_service.ctx
    await wait_until(lambda: _survey_count(ctx), within=5)
    results = await asyncio.gather(*(demo.seed(ctx) for _ in range(3)))
    assert results == [False, False, False]
    with capture_logs() as logs:
        # A restart: the survey table is not empty, so the task stops at once.
        assert await demo.seed_when_ready(ctx, settle_seconds=0.0, wait_seconds=5) is False
    assert any(e["event"] == "demo.skipped" for e in logs)
    await asyncio.sleep(0.3)
    assert await _survey_count(ctx) == 2
    for survey_id in (DEMO_CLOSED_SURVEY_ID, DEMO_OPEN_SURVEY_ID):
        assert await outbox_count(demo_service.ctx, PUBLISHED, survey_id) == 1
        assert len(demo_service.events.of(PUBLISHED, survey_id)) == 1
    assert await outbox_count(demo_service.ctx, CLOSED, DEMO_CLOSED_SURVEY_ID) == 1
    assert len(demo_service.events.of(CLOSED, DEMO_CLOSED_SURVEY_ID)) == 1


async def test_concurrent_seeders_create_the_surveys_once_and_give_up_without_organisations():
    async with fresh_database("bibmon_surveys_demo", migrations_dir=MIGRATIONS_DIR) as dsn:
        pool = await create_pool(dsn)
        try:
            ctx = SurveysDeps(
                pool=pool,
                clock=FrozenClock(),
                source=event_source("surveys"),
                settings=SurveysSettings(environment="test"),
            )
            with capture_logs() as logs:
                gave_up = await demo.seed_when_ready(ctx, settle_seconds=0.05, wait_seconds=0.3)
            assert gave_up is False
            assert any(
                e["event"] == "demo.gave_up" and e["reason"] == "no organisations" for e in logs
            )
            assert await demo.seed(ctx) is False  # no organisations: nothing

            organisations = Organisations(ctx)
            for _ in range(3):
                await organisations.register()
            results = await asyncio.gather(*(demo.seed(ctx) for _ in range(4)))
            assert sorted(results) == [False, False, False, True]
            async with pool.acquire() as conn:
                assert await conn.fetchval("SELECT count(*) FROM survey") == 2
                assert await conn.fetchval("SELECT count(*) FROM survey_participant") == 6
                by_type = dict(await conn.fetch("SELECT type, count(*) FROM outbox GROUP BY type"))
            assert by_type == {PUBLISHED: 2, CLOSED: 1}
        finally:
            await pool.close()
