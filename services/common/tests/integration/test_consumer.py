"""The inbox consumer against the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import pytest
import pytest_asyncio
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from bibmon_common.events import CloudEvent, Event, Message, register, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import ATTEMPT_HEADER, PARKING_REASON_HEADER, Consumer
from bibmon_common.messaging.outbox import OutboxRelay, enqueue
from bibmon_common.messaging.topology import (
    EVENTS_EXCHANGE,
    declare_consumer_queues,
    parking_queue_name,
    retry_queue_name,
)
from bibmon_common.testing.amqp import TCPProxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


@register
class WidgetMade(Event):
    """Test-only event."""

    type: ClassVar[str] = "test.consumer.widget_made.v1"

    widget_id: UUID


class Recorder:
    """A handler that writes one effect row per call and can fail its first calls."""

    def __init__(self, consumer: str, *, failures: int = 0, exc: type[Exception] = RuntimeError):
        self.consumer = consumer
        self.failures = failures
        self.exc = exc
        self.calls: list[UUID] = []
        self.trace_ids: list[int] = []

    async def __call__(self, conn: asyncpg.Connection, message: Message, envelope: CloudEvent):
        self.calls.append(envelope.id)
        self.trace_ids.append(trace.get_current_span().get_span_context().trace_id)
        await conn.execute(
            "INSERT INTO effects (consumer, message_id) VALUES ($1, $2)", self.consumer, envelope.id
        )
        if len(self.calls) <= self.failures:
            raise self.exc("handler failed on purpose")


async def effects(pool: asyncpg.Pool, consumer: str) -> int:
    async with pool.acquire() as conn:
        count = await conn.fetchval("SELECT count(*) FROM effects WHERE consumer = $1", consumer)
    return int(count)


@pytest_asyncio.fixture(loop_scope="session")
async def start_consumer(
    broker: Broker, pool: asyncpg.Pool, queue_name: str
) -> AsyncIterator[Callable[..., Awaitable[Consumer]]]:
    started: list[Consumer] = []

    async def start(handler: Any, **kwargs: Any) -> Consumer:
        kwargs.setdefault("retry_delays", (0.1, 0.2))
        consumer = Consumer(
            broker,
            pool,
            queue=queue_name,
            exchange=EVENTS_EXCHANGE,
            handlers={WidgetMade.type: handler},
            **kwargs,
        )
        await consumer.start()
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        await consumer.stop(grace_period=5)


async def publish(broker: Broker, envelope: CloudEvent | bytes, **kwargs: Any) -> None:
    body = envelope.to_bytes() if isinstance(envelope, CloudEvent) else envelope
    message_id = str(envelope.id) if isinstance(envelope, CloudEvent) else str(uuid.uuid4())
    kwargs.setdefault("routing_key", WidgetMade.type)
    await broker.publish(EVENTS_EXCHANGE, body=body, message_id=message_id, **kwargs)


def widget_made() -> CloudEvent:
    return to_envelope(WidgetMade(widget_id=uuid.uuid4()), source="test")


@pytest.mark.asyncio(loop_scope="session")
async def test_redelivered_message_runs_handler_once(
    broker, pool, queue_name, start_consumer, wait_until
):
    handler = Recorder(queue_name)
    # prefetch 1: messages are handled in order, so the sentinel comes last.
    await start_consumer(handler, prefetch=1)
    duplicate, sentinel = widget_made(), widget_made()

    await publish(broker, duplicate)
    await publish(broker, duplicate)
    await publish(broker, sentinel)

    async def sentinel_handled() -> bool:
        return sentinel.id in handler.calls

    await wait_until(sentinel_handled)
    assert handler.calls == [duplicate.id, sentinel.id]
    assert await effects(pool, queue_name) == 2


@pytest.mark.asyncio(loop_scope="session")
async def test_body_that_is_not_json_is_parked_and_next_message_is_processed(
    broker, pool, queue_name, start_consumer, channel, wait_until, drain_queue
):
    handler = Recorder(queue_name)
    await start_consumer(handler, prefetch=1)
    good = widget_made()

    await publish(broker, b"this is not json {")
    await publish(broker, good)

    async def good_handled() -> bool:
        return good.id in handler.calls

    await wait_until(good_handled)
    parked = await drain_queue(channel, parking_queue_name(queue_name))
    assert [m.body for m in parked] == [b"this is not json {"]
    assert parked[0].headers[PARKING_REASON_HEADER] == "invalid"


@pytest.mark.asyncio(loop_scope="session")
async def test_unknown_message_type_is_parked(
    broker, queue_name, start_consumer, channel, wait_until, drain_queue
):
    await start_consumer(Recorder(queue_name))
    stranger = CloudEvent(source="test", type="test.nobody.knows.v1", data={})

    # Straight into the queue through the default exchange: no binding routes this type.
    await broker.publish("", queue_name, stranger.to_bytes(), message_id=str(stranger.id))

    parked: list[Any] = []

    async def is_parked() -> bool:
        parked.extend(await drain_queue(channel, parking_queue_name(queue_name)))
        return bool(parked)

    await wait_until(is_parked)
    assert parked[0].message_id == str(stranger.id)
    assert parked[0].headers[PARKING_REASON_HEADER] == "unknown_type"


@pytest.mark.asyncio(loop_scope="session")
async def test_handler_that_always_raises_ends_in_parking_after_the_retries(
    broker, pool, queue_name, start_consumer, channel, wait_until, drain_queue
):
    handler = Recorder(queue_name, failures=1_000)
    await start_consumer(handler, retry_delays=(0.1, 0.2))
    poison = widget_made()

    await publish(broker, poison)

    parked: list[Any] = []

    async def is_parked() -> bool:
        parked.extend(await drain_queue(channel, parking_queue_name(queue_name)))
        return bool(parked)

    await wait_until(is_parked)
    assert handler.calls == [poison.id] * 3  # first delivery + one per retry delay
    assert parked[0].headers[PARKING_REASON_HEADER] == "handler_failed"
    assert parked[0].headers[ATTEMPT_HEADER] == 2
    # Every failed attempt rolled back its writes.
    assert await effects(pool, queue_name) == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_handler_that_fails_once_succeeds_on_the_retry(
    broker, pool, queue_name, start_consumer, channel, wait_until, drain_queue
):
    handler = Recorder(queue_name, failures=1)
    await start_consumer(handler)
    flaky = widget_made()

    await publish(broker, flaky)

    async def effect_written() -> bool:
        return await effects(pool, queue_name) == 1

    await wait_until(effect_written)
    assert handler.calls == [flaky.id, flaky.id]
    assert await drain_queue(channel, parking_queue_name(queue_name)) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_database_outage_in_handler_is_retried_without_using_up_attempts(
    broker, pool, queue_name, start_consumer, channel, wait_until, drain_queue
):
    # More transient failures than retry delays: they must not park the message.
    handler = Recorder(queue_name, failures=4, exc=ConnectionResetError)
    await start_consumer(handler, retry_delays=(0.1,))
    message = widget_made()

    await publish(broker, message)

    async def effect_written() -> bool:
        return await effects(pool, queue_name) == 1

    await wait_until(effect_written)
    assert len(handler.calls) == 5
    assert await drain_queue(channel, parking_queue_name(queue_name)) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_trace_context_travels_from_enqueue_to_handler(
    broker, pool, queue_name, start_consumer, clean_outbox, wait_until
):
    handler = Recorder(queue_name)
    await start_consumer(handler)
    trace_id = int(uuid.uuid4().hex, 16)
    parent = SpanContext(
        trace_id=trace_id,
        span_id=0x00F067AA0BA902B7,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )

    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
    try:
        async with pool.acquire() as conn, conn.transaction():
            message_id = await enqueue(conn, WidgetMade(widget_id=uuid.uuid4()), source="test")
    finally:
        otel_context.detach(token)
    async with pool.acquire() as conn:
        headers = await conn.fetchval("SELECT headers FROM outbox WHERE id = $1", message_id)
    assert headers["traceparent"].startswith(f"00-{trace_id:032x}-")

    await OutboxRelay(pool, broker).run_once()

    async def handled() -> bool:
        return message_id in handler.calls

    await wait_until(handled)
    assert handler.trace_ids == [trace_id]


@pytest.mark.asyncio(loop_scope="session")
async def test_stop_waits_for_the_message_in_flight(broker, pool, queue_name, wait_until):
    started = asyncio.Event()

    async def slow(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        started.set()
        await asyncio.sleep(0.3)
        await conn.execute(
            "INSERT INTO effects (consumer, message_id) VALUES ($1, $2)", queue_name, envelope.id
        )

    consumer = Consumer(
        broker, pool, queue=queue_name, exchange=EVENTS_EXCHANGE, handlers={WidgetMade.type: slow}
    )
    await consumer.start()
    await publish(broker, widget_made())
    await asyncio.wait_for(started.wait(), 5)

    await consumer.stop(grace_period=5)

    assert await effects(pool, queue_name) == 1


def test_consumer_refuses_a_handler_for_an_unregistered_type():
    with pytest.raises(ValueError, match="no contract"):
        Consumer(
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            queue="x",
            exchange=EVENTS_EXCHANGE,
            handlers={"test.nope.v1": Recorder("x")},
        )


@pytest.mark.asyncio(loop_scope="session")
async def test_consumer_resumes_after_the_connection_drops(
    amqp_url, broker, pool, queue_name, wait_until
):
    handler = Recorder(queue_name)
    async with TCPProxy() as proxy:
        consumer_broker = Broker(
            proxy.url(amqp_url), "consumer-behind-proxy", reconnect_interval=0.2
        )
        await consumer_broker.connect()
        consumer = Consumer(
            consumer_broker,
            pool,
            queue=queue_name,
            exchange=EVENTS_EXCHANGE,
            handlers={WidgetMade.type: handler},
        )
        await consumer.start()
        try:
            await proxy.disconnect()
            before, after = widget_made(), widget_made()
            # Published over the direct connection while the consumer reconnects.
            await publish(broker, before)

            async def reconnected() -> bool:
                return consumer_broker.is_connected

            await wait_until(reconnected, within=10)
            await publish(broker, after)

            async def both_handled() -> bool:
                return {before.id, after.id} <= set(handler.calls)

            await wait_until(both_handled, within=10)
        finally:
            await consumer.stop(grace_period=5)
            await consumer_broker.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_message_whose_retry_cannot_be_published_is_held_not_requeued(
    broker, pool, queue_name, start_consumer, channel, wait_until, drain_queue
):
    # A nack with requeue would loop for ever on RabbitMQ 4.3 (it no longer counts) and
    # use up the delivery limit on 3.10-4.2; the consumer keeps the message instead.
    handler = Recorder(queue_name, failures=1)
    await start_consumer(handler, retry_delays=(0.1, 0.2))
    await channel.queue_delete(retry_queue_name(queue_name, 0.1))
    message = widget_made()

    await publish(broker, message)

    async def handled_once() -> bool:
        return len(handler.calls) == 1

    await wait_until(handled_once)
    await asyncio.sleep(1.0)  # long enough for a requeue loop to show
    assert handler.calls == [message.id]

    await declare_consumer_queues(channel, queue_name, (0.1, 0.2))

    async def effect_written() -> bool:
        return await effects(pool, queue_name) == 1

    await wait_until(effect_written, within=20)
    assert handler.calls == [message.id, message.id]
    assert await drain_queue(channel, parking_queue_name(queue_name)) == []
