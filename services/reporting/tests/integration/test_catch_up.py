"""In development reporting asks for a replay by itself when it knows no survey yet."""

from __future__ import annotations

from typing import Any

import pytest

from bibmon_common.clock import SystemClock
from bibmon_common.db import create_pool
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.service import running_service
from bibmon_common.testing.tokens import TestKeys
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.main import create_app

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

REQUESTS = "SELECT count(*) FROM outbox WHERE type = 'reporting.replay.requested.v1'"


def started(settings: ReportingSettings, keys: TestKeys) -> Any:
    """Start and stop reporting (no broker answers: its consumers never start)."""
    app = create_app(settings, jwks_provider=keys.provider, clock=SystemClock())
    return running_service(app, base_url="http://t", wait_for_consumers=False)


async def test_with_demo_data_an_empty_reporting_asks_for_a_replay_once_it_knows_surveys_not():
    # No broker needed: the request waits in the outbox until one answers.
    async with fresh_database("bibmon_t_rep") as dsn:
        settings = ReportingSettings(
            database_url=dsn,
            amqp_url="amqp://guest:guest@127.0.0.1:9/",
            environment="test",
            load_demo_data=True,
        )
        keys = TestKeys("reporting")
        async with started(settings, keys):
            pass
        pool = await create_pool(dsn, min_size=1, max_size=1)
        try:
            assert await pool.fetchval(REQUESTS) == 1
            await pool.execute("INSERT INTO survey (id) VALUES (gen_random_uuid())")
            async with started(settings, keys):
                pass
            assert await pool.fetchval(REQUESTS) == 1  # it knows a survey now: no new one
            without_demo = settings.model_copy(update={"load_demo_data": False})
            await pool.execute("TRUNCATE survey")
            async with started(without_demo, keys):
                pass
            assert await pool.fetchval(REQUESTS) == 1
        finally:
            await pool.close()
