"""The consumer's shared transactions, against the real RabbitMQ and PostgreSQL.

Messages that arrive while every transaction slot is busy share the next transaction;
whatever fails in it, each of its messages is then applied alone.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import pytest

from bibmon_common.events import CloudEvent, Event, Message, register, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_common.testing.wait import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@register
class BoxPacked(Event):
    """Test-only event."""

    type: ClassVar[str] = "test.batches.box_packed.v1"

    box_id: UUID


class Packer:
    """A handler recording, per message, the transaction it ran in; the first call blocks."""

    def __init__(self, consumer: str, *, fail_once: set[UUID] | None = None) -> None:
        self.consumer = consumer
        self.fail_once = set(fail_once or ())
        self.release = asyncio.Event()
        self.first_started = asyncio.Event()
        self.transactions: list[tuple[UUID, int]] = []

    async def __call__(self, conn: Any, message: Message, envelope: CloudEvent) -> None:
        if not self.first_started.is_set():
            self.first_started.set()
            await self.release.wait()  # holds the only transaction slot
        txid = await conn.fetchval("SELECT txid_current()")
        self.transactions.append((envelope.id, txid))
        await conn.execute(
            "INSERT INTO effects (consumer, message_id) VALUES ($1, $2)", self.consumer, envelope.id
        )
        if envelope.id in self.fail_once:
            self.fail_once.discard(envelope.id)
            raise RuntimeError("failed on purpose, once")


def packed() -> CloudEvent:
    return to_envelope(BoxPacked(box_id=uuid.uuid4()), source="test")


async def send(broker: Broker, envelope: CloudEvent) -> None:
    await broker.publish(
        EVENTS_EXCHANGE, BoxPacked.type, envelope.to_bytes(), message_id=str(envelope.id)
    )


async def effects_by_message(pool: asyncpg.Pool, consumer: str) -> Counter[UUID]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT message_id FROM effects WHERE consumer = $1", consumer)
    return Counter(r["message_id"] for r in rows)


async def consume(broker: Broker, pool: asyncpg.Pool, queue: str, handler: Packer) -> Consumer:
    consumer = Consumer(
        broker,
        pool,
        queue=queue,
        exchange=EVENTS_EXCHANGE,
        handlers={BoxPacked.type: handler},
        retry_delays=(0.1,),
        prefetch=16,
        max_transactions=1,
    )
    await consumer.start()
    return consumer


@pytest.mark.asyncio(loop_scope="session")
async def test_messages_waiting_for_a_busy_slot_share_one_transaction_and_apply_once(
    broker, pool, queue_name
):
    handler = Packer(queue_name)
    consumer = await consume(broker, pool, queue_name, handler)
    try:
        first, *waiting = [packed() for _ in range(8)]
        await send(broker, first)
        await asyncio.wait_for(handler.first_started.wait(), 10)
        for envelope in waiting:
            await send(broker, envelope)
        await asyncio.sleep(0.5)  # all delivered, waiting for the only slot
        handler.release.set()

        async def all_applied() -> bool:
            return len(await effects_by_message(pool, queue_name)) == 8

        await eventually(all_applied, within=10)
    finally:
        await consumer.stop(grace_period=5)

    assert await effects_by_message(pool, queue_name) == Counter(
        {e.id: 1 for e in [first, *waiting]}
    )
    txids = dict(handler.transactions)
    assert len({txids[e.id] for e in waiting}) == 1  # the seven waiting ones: one commit
    assert txids[first.id] != txids[waiting[0].id]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_failure_in_a_shared_transaction_applies_each_message_alone(
    broker, pool, queue_name
):
    first, *waiting = [packed() for _ in range(6)]
    failing = waiting[2]
    handler = Packer(queue_name, fail_once={failing.id})
    consumer = await consume(broker, pool, queue_name, handler)
    try:
        await send(broker, first)
        await asyncio.wait_for(handler.first_started.wait(), 10)
        for envelope in waiting:
            await send(broker, envelope)
        await send(broker, waiting[0])  # a redelivery in the same batch
        await asyncio.sleep(0.5)
        handler.release.set()

        async def all_applied() -> bool:
            return len(await effects_by_message(pool, queue_name)) == 6

        await eventually(all_applied, within=10)
        await asyncio.sleep(0.3)  # a second effect, if any, would be written now
    finally:
        await consumer.stop(grace_period=5)

    # The shared transaction was rolled back; each message then ran alone, once.
    assert await effects_by_message(pool, queue_name) == Counter(
        {e.id: 1 for e in [first, *waiting]}
    )
    # In the shared transaction the handler ran up to the failing message (which failed
    # there, its one failure); after the rollback every message ran alone and committed.
    runs = Counter(message_id for message_id, _ in handler.transactions)
    before, after = waiting[:2], waiting[3:]
    assert [runs[e.id] for e in before] == [2, 2]
    assert runs[failing.id] == 2
    assert [runs[e.id] for e in after] == [1, 1]
    last_txid = dict(handler.transactions)
    assert len({last_txid[e.id] for e in waiting}) == len(waiting)  # each its own commit
    async with pool.acquire() as conn:
        inbox = await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", queue_name)
    assert inbox == 6


async def given_back(drain_queue: Any, channel: Any, queue: str) -> list[str]:
    """Ids of the messages ready in `queue` (taken). Counted by basic.get: RabbitMQ 3.10
    leaves a quorum queue's returned messages out of its message count."""
    return [m.message_id for m in await drain_queue(channel, queue)]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_batch_is_acknowledged_with_one_ack_and_nothing_is_given_back(
    broker, pool, queue_name, channel, drain_queue
):
    handler = Packer(queue_name)
    consumer = await consume(broker, pool, queue_name, handler)
    first, *waiting = [packed() for _ in range(8)]
    try:
        await send(broker, first)
        await asyncio.wait_for(handler.first_started.wait(), 10)
        for envelope in waiting:
            await send(broker, envelope)
        await asyncio.sleep(0.5)
        handler.release.set()

        async def all_applied() -> bool:
            return len(await effects_by_message(pool, queue_name)) == 8

        await eventually(all_applied, within=10)
    finally:
        await consumer.stop(grace_period=5)
    # Tags 2-8 went as one `basic.ack multiple` after tag 1's own ack; had any ack been
    # refused (an unknown tag closes the channel) or not written before the channel
    # closed, its message would be ready again now.
    await asyncio.sleep(0.3)
    assert await given_back(drain_queue, channel, queue_name) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_acks_never_cover_a_message_still_being_handled(
    broker, pool, queue_name, channel, drain_queue
):
    """Tag 1 is still in its handler when tags 2-8 are done: their acks must not take it."""
    handler = Packer(queue_name)
    consumer = Consumer(
        broker,
        pool,
        queue=queue_name,
        exchange=EVENTS_EXCHANGE,
        handlers={BoxPacked.type: handler},
        retry_delays=(0.1,),
        prefetch=16,
        max_transactions=2,  # the others run beside the held one
    )
    await consumer.start()
    first, *others = [packed() for _ in range(8)]
    try:
        await send(broker, first)
        await asyncio.wait_for(handler.first_started.wait(), 10)
        for envelope in others:
            await send(broker, envelope)

        async def others_applied() -> bool:
            return len(await effects_by_message(pool, queue_name)) == 7

        await eventually(others_applied, within=10)
        await asyncio.sleep(0.3)  # their acks are written at the end of the turn
        # The consumer goes away while tag 1 is held: its channel closes.
        await consumer.stop(grace_period=0.5)
        # Only the held message is given back; the seven others were acknowledged.
        await asyncio.sleep(0.3)
        assert await given_back(drain_queue, channel, queue_name) == [str(first.id)]
    finally:
        handler.release.set()
        await consumer.stop(grace_period=5)
