"""Fixtures for the messaging tests: one database and one RabbitMQ vhost per test session."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import asyncpg
import pytest_asyncio
from aio_pika.abc import AbstractRobustChannel

from bibmon_common.db import create_pool
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.outbox import OUTBOX_INBOX_DDL
from bibmon_common.testing import wait as testing_wait
from bibmon_common.testing.amqp import fresh_vhost
from bibmon_common.testing.db import fresh_database

# A stand-in for a service's own tables, written by handlers under test.
EFFECTS_DDL = """
CREATE TABLE effects (
    id bigserial PRIMARY KEY,
    consumer text NOT NULL,
    message_id uuid NOT NULL,
    note text
);
"""


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def database_dsn() -> AsyncIterator[str]:
    async with fresh_database("bibmon_msgtest") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(OUTBOX_INBOX_DDL)
            await conn.execute(EFFECTS_DDL)
        finally:
            await conn.close()
        yield dsn


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def pool(database_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_dsn, max_size=10)
    yield pool
    await pool.close()


@pytest_asyncio.fixture(loop_scope="session")
async def clean_outbox(pool: asyncpg.Pool) -> None:
    """Each test starts with an empty outbox (relays of other tests must not see old rows)."""
    async with pool.acquire() as conn:
        await conn.execute("TRUNCATE outbox")


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def amqp_url() -> AsyncIterator[str]:
    async with fresh_vhost("bibmon_msgtest") as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def broker(amqp_url: str) -> AsyncIterator[Broker]:
    broker = Broker(amqp_url, "bibmon-msgtest", reconnect_interval=0.5)
    await broker.connect()
    yield broker
    await broker.close()


@pytest_asyncio.fixture(loop_scope="session")
async def channel(broker: Broker) -> AsyncIterator[AbstractRobustChannel]:
    """A plain channel for inspecting queues (basic.get)."""
    channel = await broker.channel()
    yield channel
    await broker.release_channel(channel)


@pytest_asyncio.fixture(loop_scope="session")
def queue_name() -> str:
    """A queue name of this test only; the session vhost is deleted afterwards."""
    return f"test.{uuid.uuid4().hex[:8]}"


# The kernel's polling helper, with this suite's longer default.
eventually = functools.partial(testing_wait.eventually, within=10.0)


@pytest_asyncio.fixture(loop_scope="session")
def wait_until() -> Callable[..., Awaitable[None]]:
    return eventually


async def drain(channel: AbstractRobustChannel, queue: str) -> list[aio_pika.IncomingMessage]:
    """Take every message now in `queue` (acked)."""
    q = await channel.get_queue(queue, ensure=False)
    out: list[aio_pika.IncomingMessage] = []
    while (message := await q.get(fail=False, no_ack=True)) is not None:
        out.append(message)  # type: ignore[arg-type]
    return out


@pytest_asyncio.fixture(loop_scope="session")
def drain_queue() -> Callable[..., Awaitable[list[aio_pika.IncomingMessage]]]:
    return drain
