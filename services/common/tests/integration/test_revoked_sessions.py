"""A service's copy of the revoked sessions: no query per request, and still every
process refuses an ended session within a second, whichever process recorded it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio

from bibmon_common.db import create_pool
from bibmon_common.projections import (
    SESSION_REVOCATION_DDL,
    RevokedSessions,
    record_revoked_sessions,
)
from bibmon_common.testing.db import fresh_database

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with fresh_database("bibmon_revoked") as dsn:
        pool = await create_pool(dsn, max_size=4)
        async with pool.acquire() as conn:
            await conn.execute(SESSION_REVOCATION_DDL)
        yield pool
        await pool.close()


@contextlib.asynccontextmanager
async def running(copy: RevokedSessions) -> AsyncIterator[RevokedSessions]:
    task = asyncio.create_task(copy.run())
    try:
        yield copy
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _revoke(pool: asyncpg.Pool, session: uuid.UUID, expires_in: timedelta) -> None:
    async with pool.acquire() as conn:
        await record_revoked_sessions(conn, [session], datetime.now(UTC) + expires_in)


async def test_a_session_revoked_through_another_process_is_refused_within_the_interval(pool):
    session, other = uuid.uuid4(), uuid.uuid4()
    async with (
        running(RevokedSessions(pool, interval=0.2)) as one,
        running(RevokedSessions(pool, interval=0.2)) as two,
    ):
        await asyncio.sleep(0.3)
        assert not await one.is_revoked(session)
        await _revoke(pool, session, timedelta(minutes=10))  # recorded by a third party
        await asyncio.sleep(0.5)
        assert await one.is_revoked(session)
        assert await two.is_revoked(session)
        assert not await two.is_revoked(other)


async def test_a_revocation_past_its_expiry_no_longer_counts(pool):
    session = uuid.uuid4()
    async with running(RevokedSessions(pool, interval=0.2)) as copy:
        await _revoke(pool, session, timedelta(seconds=1))
        await asyncio.sleep(0.5)
        assert await copy.is_revoked(session)
        await asyncio.sleep(1.0)
        assert not await copy.is_revoked(session)


async def test_without_a_fresh_copy_every_check_asks_the_database(pool):
    session = uuid.uuid4()
    copy = RevokedSessions(pool, interval=0.2, stale_after=0.5)  # never loaded
    await _revoke(pool, session, timedelta(minutes=10))
    assert await copy.is_revoked(session)
    await copy.refresh()
    late = uuid.uuid4()
    await _revoke(pool, late, timedelta(minutes=10))
    assert not await copy.is_revoked(late)  # fresh copy, not reloaded yet
    await asyncio.sleep(0.6)  # the copy is now too old to trust
    assert await copy.is_revoked(late)
