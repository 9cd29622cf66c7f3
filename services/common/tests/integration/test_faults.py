"""Faults the kernel must absorb, each bounded in time, against the real servers."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import pytest

from bibmon_common.contracts.identity import OrganisationRegistered, OrganisationUpdated
from bibmon_common.events import CloudEvent, Event, Message, register, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.handlers import bind
from bibmon_common.messaging.replay import ReplayReport, replay_parked
from bibmon_common.messaging.topology import EVENTS_EXCHANGE, parking_queue_name
from bibmon_common.projections import ORGANISATION_ROUTES
from bibmon_common.testing.amqp import TCPProxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


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


ORGANISATION_DDL = """
CREATE TABLE IF NOT EXISTS organisation (
    id uuid PRIMARY KEY, name text NOT NULL, province text NOT NULL,
    municipalities text[] NOT NULL DEFAULT '{}', inhabitants integer NOT NULL,
    size_class text NOT NULL, source_time timestamptz NOT NULL
)
"""


@pytest.mark.asyncio(loop_scope="session")
async def test_a_storm_of_duplicates_out_of_order_ends_in_the_newest_state_applied_once(
    broker, pool, queue_name, channel, wait_until, drain_queue
):
    async with pool.acquire() as conn:
        await conn.execute(ORGANISATION_DDL)
    consumer = Consumer(
        broker,
        pool,
        queue=queue_name,
        exchange=EVENTS_EXCHANGE,
        handlers=bind(None, ORGANISATION_ROUTES),
        retry_delays=(0.1,),
    )
    await consumer.start()
    base = datetime.now(UTC)
    organisations = [uuid.uuid4() for _ in range(20)]
    envelopes: list[CloudEvent] = []
    for organisation_id in organisations:
        for version in range(5):
            cls = OrganisationRegistered if version == 0 else OrganisationUpdated
            event = cls(
                organisation_id=organisation_id,
                name=f"versie {version}",
                province="Utrecht",
                municipalities=("Utrecht",),
                inhabitants=100_000 + version,
                size_class="large",
            )
            envelopes.append(
                to_envelope(event, source="identity", time=base + timedelta(seconds=version))
            )
    storm = [e for e in envelopes for _ in range(3)]  # every message three times
    random.Random(11).shuffle(storm)
    try:
        for envelope in storm:
            await broker.publish(
                EVENTS_EXCHANGE, envelope.type, envelope.to_bytes(), message_id=str(envelope.id)
            )

        async def all_processed() -> bool:
            async with pool.acquire() as conn:
                n = await conn.fetchval(
                    "SELECT count(*) FROM inbox WHERE consumer = $1", queue_name
                )
            return int(n) == len(envelopes)

        await wait_until(all_processed, within=60)
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT name, inhabitants FROM organisation WHERE id = ANY($1::uuid[])",
                organisations,
            )
        assert sorted((r["name"], r["inhabitants"]) for r in rows) == [("versie 4", 100_004)] * len(
            organisations
        )
    finally:
        await consumer.stop(grace_period=5)
    assert await drain_queue(channel, parking_queue_name(queue_name)) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_malformed_messages_are_parked_with_the_reason_and_replayed_with_the_command(
    broker, pool, queue_name, channel, wait_until
):
    consumer = Consumer(
        broker,
        pool,
        queue=queue_name,
        exchange=EVENTS_EXCHANGE,
        handlers={WidgetMade.type: lambda *_: asyncio.sleep(0)},
        retry_delays=(0.1,),
    )
    await consumer.start()
    try:
        not_json = str(uuid.uuid4())
        await broker.publish(EVENTS_EXCHANGE, WidgetMade.type, b"{not json", message_id=not_json)
        wrong = CloudEvent(source="test", type=WidgetMade.type, data={"widget_id": "no uuid"})
        await broker.publish(
            EVENTS_EXCHANGE, WidgetMade.type, wrong.to_bytes(), message_id=str(wrong.id)
        )

        async def both_parked() -> ReplayReport | None:
            report = await replay_parked(broker, queue_name, dry_run=True)
            return report if len(report.replayed) == 2 else None

        listed = await wait_until(both_parked)
        assert {(m.message_id, m.reason) for m in listed.replayed} == {
            (not_json, "invalid"),
            (str(wrong.id), "invalid"),
        }

        # Replayed (say after a contract fix that did not come): parked again, not lost.
        replayed = await replay_parked(broker, queue_name)
        assert len(replayed.replayed) == 2
        again = await wait_until(both_parked)
        assert {m.message_id for m in again.replayed} == {not_json, str(wrong.id)}
    finally:
        await consumer.stop(grace_period=5)
