"""The kernel's background helpers against the real PostgreSQL: periodic loop, wake-up, lock."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from structlog.testing import capture_logs

from bibmon_common.background import Wakeup, advisory_xact_lock, run_periodically
from bibmon_common.testing.wait import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

CHANNEL = "bibmon_test_wakeup"


async def notify(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_notify($1, '')", CHANNEL)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_notify_ends_the_wait_long_before_the_poll(pool):
    wakeup = Wakeup(pool, CHANNEL)
    try:
        await wakeup.ensure()
        started = time.monotonic()
        waiting = asyncio.create_task(wakeup.wait(20))
        await asyncio.sleep(0.1)
        await notify(pool)
        await asyncio.wait_for(waiting, 5)
        assert time.monotonic() - started < 5
    finally:
        await wakeup.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_a_lost_listener_is_replaced_and_notifications_wake_again(database_dsn):
    app_name = "wakeup-lost-listener"
    pool = await asyncpg.create_pool(
        database_dsn, min_size=1, max_size=3, server_settings={"application_name": app_name}
    )
    wakeup = Wakeup(pool, CHANNEL)
    try:
        await wakeup.ensure()
        assert wakeup.listening
        admin = await asyncpg.connect(database_dsn)
        try:
            await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1",
                app_name,
            )

            async def lost() -> bool:
                return not wakeup.listening

            await eventually(lost, within=5)
            # The next wait listens again on a fresh connection, so a NOTIFY reaches it.
            waiting = asyncio.create_task(wakeup.wait(20))

            async def listening_again() -> bool:
                return wakeup.listening

            await eventually(listening_again, within=5)
            await admin.execute("SELECT pg_notify($1, '')", CHANNEL)
            await asyncio.wait_for(waiting, 5)
        finally:
            await admin.close()
    finally:
        await wakeup.close()
        await pool.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_set_wakes_every_loop_sharing_a_wakeup(pool):
    wakeup = Wakeup(pool, CHANNEL)
    try:
        waiters = [asyncio.create_task(wakeup.wait(20)) for _ in range(3)]
        await asyncio.sleep(0.1)
        wakeup.set()
        await asyncio.wait_for(asyncio.gather(*waiters), 5)
    finally:
        await wakeup.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_a_failing_tick_is_logged_and_the_loop_goes_on(pool):
    ticks: list[int] = []

    async def tick() -> None:
        ticks.append(len(ticks))
        if len(ticks) <= 2:
            raise RuntimeError("database away")

    stopped = asyncio.Event()
    with capture_logs() as logs:
        loop = asyncio.create_task(
            run_periodically(tick, interval=0.01, failure_event="test.tick_failed", stopped=stopped)
        )

        async def recovered() -> bool:
            return len(ticks) >= 5

        await eventually(recovered, within=5)
        stopped.set()
        await asyncio.wait_for(loop, 5)
    failures = [e for e in logs if e["event"] == "test.tick_failed"]
    assert len(failures) == 2
    assert failures[0]["error_type"] == "RuntimeError"
    assert failures[0]["log_level"] == "warning"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_tick_that_left_work_runs_again_at_once_and_a_notify_wakes_an_idle_loop(pool):
    backlog = [3]  # three full batches, then idle
    ticks = 0

    async def tick() -> bool:
        nonlocal ticks
        ticks += 1
        if backlog[0]:
            backlog[0] -= 1
            return True
        return False

    stopped = asyncio.Event()
    wakeup = Wakeup(pool, CHANNEL)
    loop = asyncio.create_task(
        run_periodically(
            tick,
            interval=60,
            failure_event="test.tick_failed",
            stopped=stopped,
            wakeup=wakeup,
            again=bool,
        )
    )
    try:

        async def drained() -> bool:
            return ticks == 4  # three full rounds back to back, then one that found nothing

        await eventually(drained, within=5)
        await eventually(lambda: asyncio.sleep(0, wakeup.listening), within=5)
        await notify(pool)

        async def woken() -> bool:
            return ticks == 5

        await eventually(woken, within=5)
    finally:
        stopped.set()
        wakeup.set()
        await asyncio.wait_for(loop, 5)
        await wakeup.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_an_advisory_job_lock_lets_one_replica_at_a_time_and_never_waits(database_dsn):
    first = await asyncpg.connect(database_dsn)
    second = await asyncpg.connect(database_dsn)
    try:
        async with first.transaction():
            assert await advisory_xact_lock(first, "test.purge")
            async with second.transaction():
                assert not await advisory_xact_lock(second, "test.purge")
                assert await advisory_xact_lock(second, "test.other_job")
        # Released at commit: the other replica may run it now.
        async with second.transaction():
            assert await advisory_xact_lock(second, "test.purge")
        with pytest.raises(RuntimeError, match="transaction"):
            await advisory_xact_lock(second, "test.purge")
    finally:
        await first.close()
        await second.close()
