"""The relay's windows and replicas against the real PostgreSQL and RabbitMQ.

A window is up to `batch_size` rows in flight at once; each row is marked by its own
confirm, and nothing is marked before the window's transaction commits.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import pytest
import pytest_asyncio
from aio_pika.abc import AbstractRobustChannel

from bibmon_common.events import CloudEvent, Command, Event, Message, register
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.outbox import OutboxRelay, enqueue
from bibmon_common.messaging.topology import (
    COMMANDS_EXCHANGE,
    EVENTS_EXCHANGE,
    declare_consumer_queues,
)
from bibmon_common.testing.wait import eventually

# Generous bounds: these start a Python process, slow on a busy machine.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@register
class CrateLoaded(Event):
    """Test-only event."""

    type: ClassVar[str] = "test.windows.crate_loaded.v1"

    crate_id: UUID


@register
class LoadCrate(Command):
    """Test-only command whose queue refuses every message (the broker nacks it)."""

    type: ClassVar[str] = "test.windows.load_crate.v1"

    crate_id: UUID


@register
class UnloadCrate(Command):
    """Test-only command no queue is bound for (the broker returns it)."""

    type: ClassVar[str] = "test.windows.unload_crate.v1"

    crate_id: UUID


def loaded() -> CrateLoaded:
    return CrateLoaded(crate_id=uuid.uuid4())


async def rows(pool: asyncpg.Pool) -> dict[UUID, asyncpg.Record]:
    async with pool.acquire() as conn:
        return {r["id"]: r for r in await conn.fetch("SELECT * FROM outbox")}


@pytest_asyncio.fixture(loop_scope="session")
async def tap(channel: AbstractRobustChannel, queue_name: str) -> str:
    """A queue receiving every CrateLoaded copy the broker routes, read with basic.get."""
    queue = await declare_consumer_queues(channel, queue_name + ".tap", (1,))
    await queue.bind(EVENTS_EXCHANGE, routing_key=CrateLoaded.type)
    return queue_name + ".tap"


@pytest_asyncio.fixture(loop_scope="session")
async def refusing_queue(channel: AbstractRobustChannel, queue_name: str) -> str:
    """A queue that is always full: the broker nacks what is routed to it."""
    name = queue_name + ".full"
    queue = await channel.declare_queue(
        name, auto_delete=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    await queue.bind(COMMANDS_EXCHANGE, routing_key=LoadCrate.type)
    return name


class Effects:
    """A consumer handler writing one effect row per message id it runs for."""

    def __init__(self, consumer: str) -> None:
        self.consumer = consumer
        self.calls = 0

    async def __call__(self, conn: Any, message: Message, envelope: CloudEvent) -> None:
        self.calls += 1
        await conn.execute(
            "INSERT INTO effects (consumer, message_id) VALUES ($1, $2)", self.consumer, envelope.id
        )


@pytest.mark.asyncio(loop_scope="session")
async def test_each_row_of_a_window_is_marked_by_its_own_confirm(
    pool, broker, clean_outbox, channel, tap, refusing_queue, drain_queue
):
    async with pool.acquire() as conn, conn.transaction():
        good = [await enqueue(conn, loaded(), source="test") for _ in range(3)]
        nacked = await enqueue(conn, LoadCrate(crate_id=uuid.uuid4()), source="test")
        returned = await enqueue(conn, UnloadCrate(crate_id=uuid.uuid4()), source="test")
        expired = await enqueue(
            conn,
            UnloadCrate(crate_id=uuid.uuid4()),
            source="test",
            expiration=timedelta(milliseconds=1),
        )
        good.append(await enqueue(conn, loaded(), source="test"))
    await asyncio.sleep(0.01)

    # One window holds all seven rows.
    assert await OutboxRelay(pool, broker, batch_size=10).run_once() == 4

    stored = await rows(pool)
    for message_id in good:
        assert stored[message_id]["published_at"] is not None
        assert stored[message_id]["attempts"] == 1
        assert stored[message_id]["last_error"] is None
    now = datetime.now(UTC)
    for message_id, error in ((nacked, "nacked"), (returned, "unroutable")):
        assert stored[message_id]["published_at"] is None, error
        assert stored[message_id]["attempts"] == 1
        assert error in stored[message_id]["last_error"]
        assert stored[message_id]["available_at"] > now  # backing off
    assert stored[expired]["published_at"] is not None
    assert stored[expired]["last_error"] == "expired before publish"
    delivered = await drain_queue(channel, tap)
    assert sorted(m.message_id for m in delivered) == sorted(str(i) for i in good)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_window_larger_than_what_is_due_publishes_everything_in_one_round(
    pool, broker, clean_outbox, channel, tap, drain_queue
):
    async with pool.acquire() as conn, conn.transaction():
        ids = [await enqueue(conn, loaded(), source="test") for _ in range(250)]

    relay = OutboxRelay(pool, broker, batch_size=100)
    assert [await relay.run_once() for _ in range(4)] == [100, 100, 50, 0]

    assert all(r["published_at"] is not None for r in (await rows(pool)).values())
    delivered = await drain_queue(channel, tap)
    assert sorted(m.message_id for m in delivered) == sorted(str(i) for i in ids)


# A relay in its own process whose publish of one chosen message never returns: the other
# rows of its window are confirmed, then the process is killed before it marks anything.
_HELD_RELAY = """
import asyncio, sys
from bibmon_common.db import create_pool
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.outbox import OutboxRelay

dsn, amqp, held = sys.argv[1:4]

class HoldingBroker(Broker):
    async def publish(self, exchange, routing_key, body, *, message_id, **kwargs):
        if message_id == held:
            print("holding", flush=True)
            await asyncio.Event().wait()
        await super().publish(exchange, routing_key, body, message_id=message_id, **kwargs)

async def main():
    pool = await create_pool(dsn, max_size=2)
    broker = HoldingBroker(amqp, "held-relay")
    await broker.connect()
    await OutboxRelay(pool, broker, batch_size=100).run_once()

asyncio.run(main())
"""


@pytest.mark.asyncio(loop_scope="session")
async def test_a_relay_killed_mid_window_leaves_every_row_due_and_the_inbox_absorbs_the_resend(
    database_dsn, amqp_url, pool, broker, clean_outbox, channel, queue_name, tap, drain_queue
):
    effects = Effects(queue_name)
    consumer = Consumer(
        broker,
        pool,
        queue=queue_name,
        exchange=EVENTS_EXCHANGE,
        handlers={CrateLoaded.type: effects},
        retry_delays=(0.1,),
    )
    await consumer.start()
    try:
        async with pool.acquire() as conn, conn.transaction():
            ids = [await enqueue(conn, loaded(), source="test") for _ in range(20)]
        held = ids[-1]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _HELD_RELAY,
            database_dsn,
            amqp_url,
            str(held),
            stdout=asyncio.subprocess.DEVNULL,
        )
        try:

            async def window_confirmed_but_one() -> bool:
                return effects.calls >= len(ids) - 1

            await eventually(window_confirmed_but_one, within=60)
        finally:
            process.send_signal(signal.SIGKILL)
            await process.wait()

        # Killed before its window committed: nothing is marked, every row is due again.
        stored = await rows(pool)
        assert all(r["published_at"] is None and r["attempts"] == 0 for r in stored.values())

        assert await OutboxRelay(pool, broker).run_once() == len(ids)

        async def all_applied() -> bool:
            async with pool.acquire() as conn:
                return await conn.fetchval(
                    "SELECT count(*) FROM inbox WHERE consumer = $1", queue_name
                ) == len(ids)

        await eventually(all_applied, within=10)
        await asyncio.sleep(0.3)  # a stray extra delivery would show up now
    finally:
        await consumer.stop(grace_period=5)

    async with pool.acquire() as conn:
        applied = await conn.fetch(
            "SELECT message_id, count(*) AS n FROM effects WHERE consumer = $1 GROUP BY 1",
            queue_name,
        )
    assert {r["message_id"]: r["n"] for r in applied} == dict.fromkeys(ids, 1)
    # The broker did carry the confirmed rows twice: the inbox made it once.
    copies = [m.message_id for m in await drain_queue(channel, tap)]
    assert len(copies) == 2 * len(ids) - 1
    assert set(copies) == {str(i) for i in ids}


@pytest.mark.asyncio(loop_scope="session")
async def test_a_relay_holding_its_window_does_not_block_another_relay(
    database_dsn, amqp_url, pool, broker, clean_outbox, channel, tap, drain_queue
):
    async with pool.acquire() as conn, conn.transaction():
        ids = [await enqueue(conn, loaded(), source="test") for _ in range(30)]
    held = ids[0]  # the oldest row: the held relay claims the first window
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _HELD_RELAY.replace("batch_size=100", "batch_size=10"),
        database_dsn,
        amqp_url,
        str(held),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(60):
            while (line := await process.stdout.readline()).strip() != b"holding":
                assert line, "the held relay ended"

        # The held relay keeps its ten rows locked; this one skips them and goes on.
        async with asyncio.timeout(10):
            published = [
                await OutboxRelay(pool, broker, batch_size=10).run_once() for _ in range(3)
            ]
        assert published == [10, 10, 0]
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()

    # Its rows are due again once it is gone.
    assert await OutboxRelay(pool, broker).run_once() == 10
    copies = [m.message_id for m in await drain_queue(channel, tap)]
    # The held relay's nine confirmed rows were re-sent: at least once, never lost.
    assert set(copies) == {str(i) for i in ids}


@pytest.mark.asyncio(loop_scope="session")
async def test_two_relay_loops_side_by_side_publish_every_row_once(
    database_dsn, amqp_url, pool, clean_outbox, channel, tap, drain_queue
):
    relays = []
    for n in range(2):
        relay_pool = await asyncpg.create_pool(database_dsn, min_size=1, max_size=4)
        relay_broker = Broker(amqp_url, f"side-by-side-{n}")
        await relay_broker.connect()
        relay = OutboxRelay(relay_pool, relay_broker, poll_interval=0.05, batch_size=20)
        await relay.start()
        relays.append((relay, relay_pool, relay_broker))
    try:
        ids: list[UUID] = []
        for _ in range(10):
            async with pool.acquire() as conn, conn.transaction():
                ids += [await enqueue(conn, loaded(), source="test") for _ in range(30)]

        async def all_published() -> bool:
            async with pool.acquire() as conn:
                return not await conn.fetchval(
                    "SELECT count(*) FROM outbox WHERE published_at IS NULL"
                )

        await eventually(all_published, within=20)
    finally:
        for relay, relay_pool, relay_broker in relays:
            await relay.stop()
            await relay_broker.close()
            await relay_pool.close()

    copies = [m.message_id for m in await drain_queue(channel, tap)]
    assert sorted(copies) == sorted(str(i) for i in ids)
    assert all(r["attempts"] == 1 for r in (await rows(pool)).values())


class HoldingBroker(Broker):
    """The real broker, except that publishing `held` waits until `release` is set."""

    def __init__(self, *args: Any, held: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held = held
        self.release = asyncio.Event()
        self.holding = asyncio.Event()

    async def publish(self, exchange: str, routing_key: str, body: bytes, **kwargs: Any) -> None:
        if kwargs.get("message_id") == self.held:
            self.holding.set()
            await self.release.wait()
        await super().publish(exchange, routing_key, body, **kwargs)


@pytest.mark.parametrize("windows", [1, 2])
@pytest.mark.asyncio(loop_scope="session")
async def test_a_held_window_stops_only_its_own_loop(
    amqp_url, pool, clean_outbox, channel, tap, drain_queue, windows
):
    """With two windows in flight, rows keep going out while one window waits for a
    confirm; with one, the relay waits with it. Every row goes out once either way."""
    async with pool.acquire() as conn, conn.transaction():
        ids = [await enqueue(conn, loaded(), source="test") for _ in range(50)]
    broker = HoldingBroker(amqp_url, "held-window", held=str(ids[0]))
    await broker.connect()
    relay = OutboxRelay(
        pool, broker, poll_interval=0.05, batch_size=10, publish_timeout=30, windows=windows
    )

    async def published() -> int:
        return sum(r["published_at"] is not None for r in (await rows(pool)).values())

    await relay.start()
    try:
        await asyncio.wait_for(broker.holding.wait(), 10)
        if windows == 2:

            async def all_but_the_held_window() -> bool:
                return await published() == 40

            await eventually(all_but_the_held_window, within=15)
        await asyncio.sleep(0.5)  # more would have gone out by now
        assert await published() == (40 if windows == 2 else 0)
        broker.release.set()

        async def all_published() -> bool:
            return await published() == 50

        await eventually(all_published, within=15)
    finally:
        broker.release.set()
        await relay.stop()
        await broker.close()
    delivered = await drain_queue(channel, tap)
    assert sorted(m.message_id for m in delivered) == sorted(str(i) for i in ids)
