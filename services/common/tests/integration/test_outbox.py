"""The transactional outbox and its relay against the real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import pytest
import pytest_asyncio
from aio_pika.abc import AbstractRobustChannel

from bibmon_common.contracts.notifier import SendEmail
from bibmon_common.events import CloudEvent, Command, Event, Message, parse_envelope, register
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.outbox import (
    EXPIRES_AT_HEADER,
    OutboxRelay,
    enqueue,
    unroutable_count,
)
from bibmon_common.messaging.topology import (
    COMMANDS_EXCHANGE,
    EVENTS_EXCHANGE,
    declare_consumer_queues,
)
from bibmon_common.testing.amqp import TCPProxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


@register
class ParcelShipped(Event):
    """Test-only event."""

    type: ClassVar[str] = "test.outbox.parcel_shipped.v1"

    parcel_id: UUID


@register
class ShipParcel(Command):
    """Test-only command."""

    type: ClassVar[str] = "test.outbox.ship_parcel.v1"

    parcel_id: UUID


@register
class RecallParcel(Command):
    """Test-only command no queue is ever bound for."""

    type: ClassVar[str] = "test.outbox.recall_parcel.v1"

    parcel_id: UUID


def shipped() -> ParcelShipped:
    return ParcelShipped(parcel_id=uuid.uuid4())


async def outbox_row(pool: asyncpg.Pool, message_id: UUID) -> asyncpg.Record:
    async with pool.acquire() as conn:
        return await conn.fetchrow("SELECT * FROM outbox WHERE id = $1", message_id)


@pytest_asyncio.fixture(loop_scope="session")
async def bound_queue(channel: AbstractRobustChannel, queue_name: str) -> str:
    """A queue receiving both test types, read with basic.get."""
    queue = await declare_consumer_queues(channel, queue_name, (1,))
    await queue.bind(EVENTS_EXCHANGE, routing_key=ParcelShipped.type)
    await queue.bind(COMMANDS_EXCHANGE, routing_key=ShipParcel.type)
    return queue_name


class Deliveries:
    """A consumer handler collecting the message ids it ran for."""

    def __init__(self) -> None:
        self.ids: list[UUID] = []

    async def __call__(self, conn: Any, message: Message, envelope: CloudEvent) -> None:
        self.ids.append(envelope.id)


@pytest_asyncio.fixture(loop_scope="session")
async def delivered(broker: Broker, pool: asyncpg.Pool, queue_name: str):
    deliveries = Deliveries()
    consumer = Consumer(
        broker,
        pool,
        queue=queue_name,
        exchange=EVENTS_EXCHANGE,
        handlers={ParcelShipped.type: deliveries},
        retry_delays=(0.1,),
    )
    await consumer.start()
    yield deliveries
    await consumer.stop(grace_period=5)


@pytest.mark.asyncio(loop_scope="session")
async def test_event_enqueued_in_committed_transaction_is_published_and_consumed(
    pool, broker, clean_outbox, delivered, wait_until
):
    # A poll far beyond the test timeout: only the NOTIFY can wake the relay in time.
    relay = OutboxRelay(pool, broker, poll_interval=60)
    await relay.start()
    await asyncio.sleep(0.2)  # let the relay reach its idle wait
    try:
        async with pool.acquire() as conn, conn.transaction():
            message_id = await enqueue(conn, shipped(), source="test")

        async def consumed() -> bool:
            return message_id in delivered.ids

        await wait_until(consumed, within=5)
    finally:
        await relay.stop()
    row = await outbox_row(pool, message_id)
    assert row["published_at"] is not None
    assert row["attempts"] == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_rolled_back_transaction_publishes_nothing(pool, broker, clean_outbox):
    class Rollback(Exception):
        pass

    async def failing_use_case() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, shipped(), source="test")
            raise Rollback

    with pytest.raises(Rollback):
        await failing_use_case()

    assert await OutboxRelay(pool, broker).run_once() == 0
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_enqueue_outside_a_transaction_is_refused(pool, clean_outbox):
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="transaction"):
            await enqueue(conn, shipped(), source="test")


@pytest.mark.asyncio(loop_scope="session")
async def test_enqueue_succeeds_while_broker_unreachable_and_event_arrives_after_recovery(
    amqp_url, pool, clean_outbox, delivered, wait_until
):
    async with TCPProxy() as proxy:
        relay_broker = Broker(
            proxy.url(amqp_url), "relay-behind-proxy", reconnect_interval=0.2, connect_timeout=1
        )
        await relay_broker.connect()
        relay = OutboxRelay(pool, relay_broker, poll_interval=0.1, publish_timeout=1)
        await relay.start()
        try:
            proxy.pause()
            await proxy.disconnect()

            async def broker_down() -> bool:
                return not relay_broker.is_connected

            await wait_until(broker_down, within=5)

            async with pool.acquire() as conn, conn.transaction():
                message_id = await enqueue(conn, shipped(), source="test")
            await asyncio.sleep(0.5)
            assert delivered.ids == []
            assert (await outbox_row(pool, message_id))["published_at"] is None
            assert await relay.lag_seconds() > 0

            proxy.resume()

            async def consumed() -> bool:
                return message_id in delivered.ids

            await wait_until(consumed, within=15)
        finally:
            await relay.stop()
            await relay_broker.close()
    assert delivered.ids == [message_id]


@pytest.mark.asyncio(loop_scope="session")
async def test_relay_survives_a_database_outage(
    database_dsn, broker, clean_outbox, delivered, wait_until
):
    app_name = f"relay-{uuid.uuid4().hex[:6]}"
    relay_pool = await asyncpg.create_pool(
        database_dsn, min_size=2, max_size=4, server_settings={"application_name": app_name}
    )
    relay = OutboxRelay(relay_pool, broker, poll_interval=0.1)
    await relay.start()
    try:
        await asyncio.sleep(0.2)
        admin = await asyncpg.connect(database_dsn)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1",
                app_name,
            )
            assert killed >= 1  # at least the relay's LISTEN connection
            async with admin.transaction():
                message_id = await enqueue(admin, shipped(), source="test")
        finally:
            await admin.close()

        async def consumed() -> bool:
            return message_id in delivered.ids

        await wait_until(consumed, within=10)
    finally:
        await relay.stop()
        await relay_pool.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_unroutable_command_stays_in_the_outbox_with_backoff(pool, broker, clean_outbox):
    async with pool.acquire() as conn, conn.transaction():
        message_id = await enqueue(conn, RecallParcel(parcel_id=uuid.uuid4()), source="test")

    # No queue is bound for this command: the broker returns it.
    assert await OutboxRelay(pool, broker).run_once() == 0

    row = await outbox_row(pool, message_id)
    assert row["published_at"] is None
    assert row["attempts"] == 1
    assert "unroutable" in row["last_error"]
    assert row["available_at"] > datetime.now(UTC)


@pytest.mark.asyncio(loop_scope="session")
async def test_command_carries_its_expiration_to_the_broker(
    pool, broker, clean_outbox, channel, bound_queue, drain_queue
):
    async with pool.acquire() as conn, conn.transaction():
        message_id = await enqueue(
            conn,
            ShipParcel(parcel_id=uuid.uuid4()),
            source="test",
            expiration=timedelta(minutes=30),
        )

    assert await OutboxRelay(pool, broker).run_once() == 1

    [message] = await drain_queue(channel, bound_queue)
    assert message.message_id == str(message_id)
    assert 29 * 60 < message.expiration <= 30 * 60
    assert EXPIRES_AT_HEADER in message.headers
    assert message.delivery_mode == 2
    assert parse_envelope(message.body).id == message_id


@pytest.mark.asyncio(loop_scope="session")
async def test_command_expired_in_the_outbox_is_never_published(
    pool, broker, clean_outbox, channel, bound_queue, drain_queue
):
    async with pool.acquire() as conn, conn.transaction():
        message_id = await enqueue(
            conn,
            ShipParcel(parcel_id=uuid.uuid4()),
            source="test",
            expiration=timedelta(milliseconds=1),
        )
    await asyncio.sleep(0.01)

    assert await OutboxRelay(pool, broker).run_once() == 0

    assert await drain_queue(channel, bound_queue) == []
    row = await outbox_row(pool, message_id)
    assert row["published_at"] is not None
    assert row["last_error"] == "expired before publish"


@pytest.mark.asyncio(loop_scope="session")
async def test_two_relays_publish_each_row_once(
    pool, broker, clean_outbox, channel, bound_queue, drain_queue
):
    async with pool.acquire() as conn, conn.transaction():
        ids = {await enqueue(conn, shipped(), source="test") for _ in range(20)}

    counts = await asyncio.gather(
        OutboxRelay(pool, broker, batch_size=7).run_once(),
        OutboxRelay(pool, broker, batch_size=7).run_once(),
        OutboxRelay(pool, broker, batch_size=7).run_once(),
    )
    counts_again = await OutboxRelay(pool, broker).run_once()

    assert sum(counts) + counts_again == 20
    messages = await drain_queue(channel, bound_queue)
    assert sorted(m.message_id for m in messages) == sorted(str(i) for i in ids)


@pytest.mark.asyncio(loop_scope="session")
async def test_lag_is_the_age_of_the_oldest_unpublished_row(pool, broker, clean_outbox):
    relay = OutboxRelay(pool, broker)
    assert await relay.lag_seconds() == 0
    async with pool.acquire() as conn, conn.transaction():
        message_id = await enqueue(conn, shipped(), source="test")
        await conn.execute(
            "UPDATE outbox SET created_at = now() - interval '90 seconds' WHERE id = $1",
            message_id,
        )

    assert 89 < await relay.lag_seconds() < 120


@pytest.mark.asyncio(loop_scope="session")
async def test_purge_removes_only_old_published_rows_and_old_inbox_rows(pool, broker, clean_outbox):
    old_published, new_published, old_unpublished = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    consumer = f"purge-{uuid.uuid4().hex[:6]}"
    async with pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO outbox (id, type, exchange, routing_key, payload, created_at,"
            " published_at) VALUES ($1, 't', 'x', 't', '{}', now() - $2::interval, $3)",
            [
                (old_published, timedelta(days=8), datetime.now(UTC) - timedelta(days=8)),
                (new_published, timedelta(days=1), datetime.now(UTC)),
                (old_unpublished, timedelta(days=9), None),
            ],
        )
        await conn.executemany(
            "INSERT INTO inbox (consumer, message_id, processed_at)"
            " VALUES ($1, $2, now() - $3::interval)",
            [
                (consumer, uuid.uuid4(), timedelta(days=31)),
                (consumer, uuid.uuid4(), timedelta(days=29)),
            ],
        )

    outbox_purged, inbox_purged = await OutboxRelay(pool, broker).purge()

    assert (outbox_purged, inbox_purged) == (1, 1)
    async with pool.acquire() as conn:
        left = {r["id"] for r in await conn.fetch("SELECT id FROM outbox")}
        inbox_left = await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", consumer)
    assert left == {new_published, old_unpublished}
    assert inbox_left == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_send_email_expires_at_becomes_the_outbox_deadline(pool, clean_outbox):
    expires_at = datetime.now(UTC) + timedelta(minutes=30)
    command = SendEmail(
        idempotency_key="password_reset:test",
        template="password_reset",
        recipient_email="lid@example.org",
        expires_at=expires_at,
    )

    async with pool.acquire() as conn, conn.transaction():
        message_id = await enqueue(conn, command, source="test")

    row = await outbox_row(pool, message_id)
    assert row["exchange"] == COMMANDS_EXCHANGE
    assert datetime.fromisoformat(row["headers"][EXPIRES_AT_HEADER]) == expires_at


@register
class ParcelLost(Event):
    """Test-only event no queue is bound for until the test binds one."""

    type: ClassVar[str] = "test.outbox.parcel_lost.v1"

    parcel_id: UUID


@pytest.mark.asyncio(loop_scope="session")
async def test_unroutable_event_stays_due_after_many_tries_and_flows_once_a_queue_is_bound(
    pool, broker, clean_outbox, channel, queue_name, drain_queue
):
    async with pool.acquire() as conn, conn.transaction():
        message_id = await enqueue(conn, ParcelLost(parcel_id=uuid.uuid4()), source="test")
    relay = OutboxRelay(pool, broker)

    # Minutes of tries while no consumer has declared its queue (an empty broker rebuilt).
    for _ in range(12):
        async with pool.acquire() as conn:
            await conn.execute("UPDATE outbox SET available_at = now() WHERE id = $1", message_id)
        assert await relay.run_once() == 0
    row = await outbox_row(pool, message_id)
    assert row["published_at"] is None
    assert row["attempts"] == 12
    async with pool.acquire() as conn:
        assert await unroutable_count(conn) == 1
    # Waiting for a queue is counted apart, not as lag.
    assert await relay.lag_seconds() == 0

    queue = await declare_consumer_queues(channel, queue_name, (1,))
    await queue.bind(EVENTS_EXCHANGE, routing_key=ParcelLost.type)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE outbox SET available_at = now() WHERE id = $1", message_id)
    assert await relay.run_once() == 1

    [message] = await drain_queue(channel, queue_name)
    assert message.message_id == str(message_id)
    async with pool.acquire() as conn:
        assert await unroutable_count(conn) == 0


@register
class ParcelForgotten(Event):
    """Test-only event no queue is ever bound for."""

    type: ClassVar[str] = "test.outbox.parcel_forgotten.v1"

    parcel_id: UUID


@pytest.mark.asyncio(loop_scope="session")
async def test_unroutable_event_is_given_up_only_after_its_retention_and_keeps_its_row(
    pool, broker, clean_outbox
):
    async with pool.acquire() as conn, conn.transaction():
        message_id = await enqueue(conn, ParcelForgotten(parcel_id=uuid.uuid4()), source="test")
    relay = OutboxRelay(pool, broker, unroutable_retention=timedelta(hours=24))
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE outbox SET created_at = now() - interval '25 hours' WHERE id = $1", message_id
        )

    assert await relay.run_once() == 0

    row = await outbox_row(pool, message_id)
    assert row["published_at"] is not None
    assert row["last_error"].startswith("unroutable")
