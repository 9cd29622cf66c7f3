"""The confirming publisher and the queue topology against the real RabbitMQ 3.10."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from bibmon_common.messaging.broker import Broker, BrokerUnavailable, Unroutable
from bibmon_common.messaging.topology import (
    EVENTS_EXCHANGE,
    declare_consumer_queues,
    parking_queue_name,
    retry_queue_name,
)
from bibmon_common.testing.amqp import TCPProxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


@pytest.mark.asyncio(loop_scope="session")
async def test_publish_without_a_bound_queue_raises_unroutable(broker):
    with pytest.raises(Unroutable):
        await broker.publish(
            EVENTS_EXCHANGE, "test.broker.nobody_listens.v1", b"{}", message_id=str(uuid.uuid4())
        )


@pytest.mark.asyncio(loop_scope="session")
async def test_published_message_is_persistent_with_id_and_trace_headers(
    broker, channel, queue_name, drain_queue
):
    queue = await declare_consumer_queues(channel, queue_name, (1,))
    await queue.bind(EVENTS_EXCHANGE, routing_key="test.broker.persisted.v1")
    message_id = str(uuid.uuid4())

    await broker.publish(
        EVENTS_EXCHANGE,
        "test.broker.persisted.v1",
        b"{}",
        message_id=message_id,
        headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
    )

    [message] = await drain_queue(channel, queue_name)
    assert message.delivery_mode == 2
    assert message.message_id == message_id
    assert message.content_type == "application/cloudevents+json"
    assert message.headers["traceparent"].startswith("00-0af7651916cd43dd")


@pytest.mark.asyncio(loop_scope="session")
async def test_quorum_queue_arguments_are_accepted_and_stable_on_redeclare(channel, queue_name):
    await declare_consumer_queues(channel, queue_name, (5, 60, 600))
    # A second declaration with different arguments would close the channel.
    await declare_consumer_queues(channel, queue_name, (5, 60, 600))

    for name in (queue_name, parking_queue_name(queue_name), retry_queue_name(queue_name, 5)):
        assert (await channel.declare_queue(name, passive=True)).name == name


@pytest.mark.asyncio(loop_scope="session")
async def test_retry_queue_returns_the_message_to_the_work_queue_after_its_delay(
    broker, channel, queue_name, drain_queue, wait_until
):
    await declare_consumer_queues(channel, queue_name, (0.2,))
    message_id = str(uuid.uuid4())

    await broker.publish("", retry_queue_name(queue_name, 0.2), b"{}", message_id=message_id)
    assert await drain_queue(channel, queue_name) == []

    returned: list = []

    async def back_in_work_queue() -> bool:
        returned.extend(await drain_queue(channel, queue_name))
        return bool(returned)

    await wait_until(back_in_work_queue, within=5)
    assert returned[0].message_id == message_id


@pytest.mark.asyncio(loop_scope="session")
async def test_publish_while_broker_unreachable_fails_fast_and_recovers(
    amqp_url, channel, queue_name, drain_queue, wait_until
):
    queue = await declare_consumer_queues(channel, queue_name, (1,))
    await queue.bind(EVENTS_EXCHANGE, routing_key="test.broker.outage.v1")
    async with TCPProxy() as proxy:
        broker = Broker(proxy.url(amqp_url), "outage", reconnect_interval=0.2, connect_timeout=1)
        await broker.connect()
        try:
            assert broker.is_connected
            proxy.pause()
            await proxy.disconnect()

            started = time.monotonic()
            with pytest.raises(BrokerUnavailable):
                await broker.publish(
                    EVENTS_EXCHANGE, "test.broker.outage.v1", b"{}", message_id="1", timeout=0.5
                )
            assert time.monotonic() - started < 2
            assert not broker.is_connected

            proxy.resume()

            async def reconnected() -> bool:
                return broker.is_connected

            await wait_until(reconnected, within=10)
            # The channel may need a moment after the connection (aio-pika reopen race).
            for attempt in range(20):
                try:
                    await broker.publish(
                        EVENTS_EXCHANGE, "test.broker.outage.v1", b"{}", message_id="2"
                    )
                    break
                except BrokerUnavailable:
                    if attempt == 19:
                        raise
                    await asyncio.sleep(0.1)
        finally:
            await broker.close()
    assert [m.message_id for m in await drain_queue(channel, queue_name)] == ["2"]


@pytest.mark.asyncio(loop_scope="session")
async def test_blackholed_connection_publish_times_out(amqp_url):
    async with TCPProxy() as proxy:
        broker = Broker(proxy.url(amqp_url), "blackhole", connect_timeout=1)
        await broker.connect()
        try:
            proxy.pause()  # no RST: the client still believes it is connected
            started = time.monotonic()
            with pytest.raises(BrokerUnavailable):
                await broker.publish(
                    EVENTS_EXCHANGE, "test.broker.blackhole.v1", b"{}", message_id="1", timeout=0.3
                )
            assert time.monotonic() - started < 1.5
        finally:
            proxy.resume()
            await broker.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_publishing_and_consuming_use_separate_connections(amqp_url):
    # A memory or disk alarm blocks publishing connections; acks on their own
    # connection keep flowing, so queues can still drain.
    async with TCPProxy() as proxy:
        broker = Broker(proxy.url(amqp_url), "two-connections")
        await broker.connect()
        try:
            channel = await broker.channel(prefetch=1)
            assert channel is not None
            assert proxy.connection_count == 2
        finally:
            await broker.close()
