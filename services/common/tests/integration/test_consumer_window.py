"""The consumer's prefetch window follows its handlers' speed, against the real RabbitMQ.

It starts at `prefetch` (16), widens to `quick_prefetch` (64) once its messages are timed
as quick, and narrows again when they turn slow. A window changes by registering a new
consumer and cancelling the old one: no message may be left unacknowledged or applied
twice across the change, and the queue keeps exactly one consumer.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import pytest

from bibmon_common.events import CloudEvent, Event, Message, register, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_common.testing.wait import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@register
class LampLit(Event):
    """Test-only event."""

    type: ClassVar[str] = "test.window.lamp_lit.v1"

    lamp_id: UUID


class Lamplighter:
    """Writes one effect row per message; can be held (every call waits) or slowed."""

    def __init__(self, consumer: str) -> None:
        self.consumer = consumer
        self.open = asyncio.Event()
        self.open.set()
        self.delay = 0.0

    async def __call__(self, conn: Any, message: Message, envelope: CloudEvent) -> None:
        await self.open.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        await conn.execute(
            "INSERT INTO effects (consumer, message_id) VALUES ($1, $2)", self.consumer, envelope.id
        )


async def send(broker: Broker, count: int) -> list[UUID]:
    ids = []
    for _ in range(count):
        envelope = to_envelope(LampLit(lamp_id=uuid.uuid4()), source="test")
        await broker.publish(
            EVENTS_EXCHANGE, LampLit.type, envelope.to_bytes(), message_id=str(envelope.id)
        )
        ids.append(envelope.id)
    return ids


async def effects(pool: asyncpg.Pool, consumer: str) -> Counter[UUID]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT message_id FROM effects WHERE consumer = $1", consumer)
    return Counter(r["message_id"] for r in rows)


async def lit_by(
    broker: Broker, pool: asyncpg.Pool, queue: str, handler: Lamplighter, **window: int
) -> Consumer:
    """A started consumer of `queue` running `handler` (`window`: prefetch arguments)."""
    consumer = Consumer(
        broker,
        pool,
        queue=queue,
        exchange=EVENTS_EXCHANGE,
        handlers={LampLit.type: handler},
        retry_delays=(0.1,),
        **window,
    )
    await consumer.start()
    return consumer


def applied(pool: asyncpg.Pool, queue: str, sent: list[UUID]) -> Callable[[], Awaitable[bool]]:
    """A probe: every message sent so far (the list may grow) has left an effect."""

    async def probe() -> bool:
        return len(await effects(pool, queue)) == len(sent)

    return probe


async def held_at(consumer: Consumer, window: int) -> None:
    """The consumer holds exactly `window` messages, and no more arrive."""

    async def full() -> bool:
        return consumer.in_flight == window

    await eventually(full, within=10)
    await asyncio.sleep(0.5)  # more would have arrived by now
    assert consumer.in_flight == window


@pytest.mark.asyncio(loop_scope="session")
async def test_the_window_widens_for_quick_handlers_and_narrows_for_slow_ones(
    broker, pool, queue_name, channel, drain_queue
):
    handler = Lamplighter(queue_name)
    consumer = await lit_by(broker, pool, queue_name, handler)
    sent: list[UUID] = []
    all_applied = applied(pool, queue_name, sent)

    try:
        assert consumer.window == 16
        # Quick messages: the window widens, and with it what RabbitMQ hands out at once.
        sent += await send(broker, 40)
        await eventually(all_applied, within=20)

        async def widened() -> bool:
            return consumer.window == 64

        await eventually(widened, within=10)
        handler.open.clear()
        sent += await send(broker, 100)
        await held_at(consumer, 64)
        handler.open.set()
        await eventually(all_applied, within=20)
        # The hold counted as the held messages' time, so they may have narrowed it:
        # quick ones, one at a time, widen it again before the slow ones start.
        for _ in range(20):
            sent += await send(broker, 1)
            await eventually(all_applied, within=10)
        await eventually(widened, within=10)

        # Slow messages, one at a time: the window narrows again.
        handler.delay = 0.08
        for _ in range(12):
            sent += await send(broker, 1)
            await eventually(all_applied, within=10)

        async def narrowed() -> bool:
            return consumer.window == 16

        await eventually(narrowed, within=10)
        handler.delay = 0.0
        handler.open.clear()
        sent += await send(broker, 40)
        await held_at(consumer, 16)
        # One consumer on the queue: each change cancelled the one it replaced.
        declared = await channel.declare_queue(queue_name, passive=True)
        assert declared.declaration_result.consumer_count == 1
        handler.open.set()
        await eventually(all_applied, within=20)
    finally:
        handler.open.set()
        await consumer.stop(grace_period=5)

    # Every message applied once, and none left unacknowledged across the changes (its
    # channel is closed now: an unacknowledged one would be ready again).
    assert await effects(pool, queue_name) == Counter(dict.fromkeys(sent, 1))
    await asyncio.sleep(0.3)
    assert [m.message_id for m in await drain_queue(channel, queue_name)] == []


@pytest.mark.asyncio(loop_scope="session")
async def test_a_window_set_by_hand_stays(broker, pool, queue_name):
    handler = Lamplighter(queue_name)
    consumer = await lit_by(broker, pool, queue_name, handler, prefetch=4)
    try:
        sent = await send(broker, 40)
        await eventually(applied(pool, queue_name, sent), within=20)
        handler.open.clear()
        await send(broker, 20)
        await held_at(consumer, 4)
        assert consumer.window == 4
    finally:
        handler.open.set()
        await consumer.stop(grace_period=5)
