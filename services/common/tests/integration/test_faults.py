"""Faults the kernel must absorb, each bounded in time, against the real servers."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import pytest

from bibmon_common.events import CloudEvent, Event, Message, register, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.topology import EVENTS_EXCHANGE, parking_queue_name
from bibmon_common.testing.amqp import TCPProxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@register
class WidgetMade(Event):
    """Test-only event."""

    type: ClassVar[str] = "test.faults.widget_made.v1"

    widget_id: UUID


async def effects(pool: asyncpg.Pool, consumer: str) -> int:
    async with pool.acquire() as conn:
        count = await conn.fetchval("SELECT count(*) FROM effects WHERE consumer = $1", consumer)
    return int(count)


@pytest.mark.asyncio(loop_scope="session")
async def test_twenty_connection_drops_in_a_minute_park_no_healthy_message(
    amqp_url, broker, pool, queue_name, channel, wait_until, drain_queue
):
    async def slow(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        await asyncio.sleep(1.0)  # longer than between drops: in flight at several
        await conn.execute(
            "INSERT INTO effects (consumer, message_id) VALUES ($1, $2)", queue_name, envelope.id
        )

    sent = [to_envelope(WidgetMade(widget_id=uuid.uuid4()), source="test") for _ in range(200)]
    async with TCPProxy() as proxy:
        consumer_broker = Broker(proxy.url(amqp_url), "drops", reconnect_interval=0.2)
        await consumer_broker.connect()
        consumer = Consumer(
            consumer_broker,
            pool,
            queue=queue_name,
            exchange=EVENTS_EXCHANGE,
            handlers={WidgetMade.type: slow},
            retry_delays=(0.1,),
        )
        await consumer.start()
        try:
            for envelope in sent:
                await broker.publish(
                    EVENTS_EXCHANGE,
                    WidgetMade.type,
                    envelope.to_bytes(),
                    message_id=str(envelope.id),
                )
            for _ in range(20):
                await asyncio.sleep(0.6)
                await proxy.disconnect()

            async def all_handled() -> bool:
                return await effects(pool, queue_name) == len(sent)

            await wait_until(all_handled, within=60)
        finally:
            await consumer.stop(grace_period=5)
            await consumer_broker.close()
    parked: list[Any] = await drain_queue(channel, parking_queue_name(queue_name))
    assert parked == []
    async with pool.acquire() as conn:
        distinct = await conn.fetchval(
            "SELECT count(DISTINCT message_id) FROM effects WHERE consumer = $1", queue_name
        )
    assert distinct == len(sent)
