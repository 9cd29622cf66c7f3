"""Two robust AMQP connections per process: one publishes with confirms, one consumes.

Separate connections because RabbitMQ blocks a publishing connection on a memory or disk
alarm: acks sharing it would freeze too, and the queues could not drain.
aio-pika's robust connection re-opens channels and re-declares topology after a broker
outage, but it is a convenience, not the guarantee (docs/reliability.md, section 3): the
outbox re-publishes what was not confirmed and the inbox absorbs the duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

import aio_pika
import aiormq
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from yarl import URL

from bibmon_common.events import CLOUDEVENTS_CONTENT_TYPE
from bibmon_common.messaging.topology import DEFAULT_EXCHANGE, declare_topology
from bibmon_common.telemetry import inject_trace_headers

log = structlog.get_logger(__name__)

__all__ = [
    "Broker",
    "BrokerUnavailable",
    "PublishFailed",
    "Rejected",
    "Unroutable",
]


class PublishFailed(Exception):
    """A publish was not confirmed; the message may or may not have reached the broker."""


class BrokerUnavailable(PublishFailed):
    """No connection, a closed channel, or no confirm within the timeout."""


class Unroutable(PublishFailed):
    """The broker returned a mandatory message: no queue is bound for its routing key."""


class Rejected(PublishFailed):
    """The broker nacked the message (e.g. the target queue is full: reject-publish)."""


class Broker:
    """A publishing connection with a confirming channel, and a consuming connection."""

    def __init__(
        self,
        url: str,
        connection_name: str,
        *,
        heartbeat: int = 30,
        reconnect_interval: float = 5.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.connection_name = connection_name
        # Every message carries it as `user_id`; RabbitMQ refuses any other value, so
        # consumers can trust it as the sender (bibmon_common.messaging.permissions).
        self.user = URL(url).user or "guest"
        # False for a least-privilege user: the broker's definitions declare the exchanges.
        self.declares_exchanges = True
        self.heartbeat = heartbeat
        self.reconnect_interval = reconnect_interval
        self.connect_timeout = connect_timeout
        self._connection: AbstractRobustConnection | None = None
        self._consume_connection: AbstractRobustConnection | None = None
        self._publisher: AbstractRobustChannel | None = None
        # RobustConnection tracks its channels in a WeakSet: a channel nobody references
        # is not restored after a reconnect (aio-pika #594/#666), so we hold them here.
        self._channels: list[AbstractRobustChannel] = []
        self._exchanges: dict[str, AbstractExchange] = {}

    async def _open(self, role: str) -> AbstractRobustConnection:
        # Heartbeats notice a dead peer in ~2 intervals instead of the ~11 min of TCP.
        return await aio_pika.connect_robust(
            self.url,
            heartbeat=self.heartbeat,
            reconnect_interval=self.reconnect_interval,
            timeout=self.connect_timeout,
            client_properties={"connection_name": f"{self.connection_name} {role}"},
        )

    async def connect(self) -> None:
        """Open both connections and the publisher channel; declare the shared exchanges."""
        connection = await self._open("publish")
        consume_connection: AbstractRobustConnection | None = None
        try:
            # Confirms + on_return_raises: a publish only succeeds once the broker has
            # routed and stored it; unroutable mandatory messages raise, never vanish.
            publisher = await connection.channel(publisher_confirms=True, on_return_raises=True)
            try:
                await declare_topology(publisher)
                self.declares_exchanges = True
            except aiormq.exceptions.ChannelAccessRefused:
                # A service user may configure only its own queues; the exchanges exist.
                self.declares_exchanges = False
                # Closed by us, so the robust connection does not restore it.
                with contextlib.suppress(Exception):
                    await publisher.close()
                publisher = await connection.channel(publisher_confirms=True, on_return_raises=True)
                await declare_topology(publisher, passive=True)
            consume_connection = await self._open("consume")
        except BaseException:
            # connect() is retried by the caller; do not leak a half-open connection.
            await connection.close()
            raise
        self._connection = connection
        self._consume_connection = consume_connection
        self._publisher = publisher
        log.info("broker.connected", connection_name=self.connection_name)

    async def close(self) -> None:
        """Close every channel and both connections."""
        connections = (self._connection, self._consume_connection)
        self._connection = self._consume_connection = None
        self._publisher = None
        self._channels.clear()
        self._exchanges.clear()
        for connection in connections:
            if connection is not None:
                await connection.close()
        if any(connections):
            log.info("broker.closed", connection_name=self.connection_name)

    @staticmethod
    def _up(connection: AbstractRobustConnection | None) -> bool:
        return connection is not None and not connection.is_closed and connection.connected.is_set()

    @property
    def is_connected(self) -> bool:
        """True while the publishing connection and its channel are up (the relay asks)."""
        return self._up(self._connection) and self.publisher_open

    @property
    def publish_connection_up(self) -> bool:
        """The publishing connection is connected (its channel may still be re-opening)."""
        return self._up(self._connection)

    @property
    def publisher_open(self) -> bool:
        """The confirming publisher channel is open."""
        return self._publisher is not None and not self._publisher.is_closed

    @property
    def consume_connection_up(self) -> bool:
        """The consuming connection is connected (its channels may still be re-opening)."""
        return self._up(self._consume_connection)

    async def channel(self, *, prefetch: int | None = None) -> AbstractRobustChannel:
        """A new robust channel on the consuming connection, kept alive by the broker."""
        if self._consume_connection is None:
            raise BrokerUnavailable("broker not connected")
        channel: AbstractRobustChannel = await self._consume_connection.channel()
        if prefetch is not None:
            # Per-consumer prefetch; quorum queues do not support global QoS.
            await channel.set_qos(prefetch_count=prefetch)
        self._channels.append(channel)
        return channel

    @contextlib.asynccontextmanager
    async def scratch_channel(self) -> AsyncIterator[AbstractChannel]:
        """A plain (not robust) channel for one probe: a channel error stays with it."""
        if self._consume_connection is None:
            raise BrokerUnavailable("broker not connected")
        channel = aio_pika.Channel(self._consume_connection, publisher_confirms=False)
        await channel  # opens it (aio-pika channels are awaitable)
        try:
            yield channel
        finally:
            if not channel.is_closed:
                with contextlib.suppress(Exception):
                    await channel.close()

    async def release_channel(self, channel: AbstractRobustChannel) -> None:
        """Close a channel obtained from `channel()` and forget it."""
        if channel in self._channels:
            self._channels.remove(channel)
        if not channel.is_closed:
            await channel.close()

    async def _exchange(self, name: str) -> AbstractExchange:
        assert self._publisher is not None
        exchange = self._exchanges.get(name)
        if exchange is None:
            if name == DEFAULT_EXCHANGE:
                exchange = self._publisher.default_exchange
            else:
                # Exchanges are declared at connect; a handle needs no round trip.
                exchange = await self._publisher.get_exchange(name, ensure=False)
            self._exchanges[name] = exchange
        return exchange

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str,
        headers: Mapping[str, Any] | None = None,
        expiration: timedelta | float | None = None,
        timeout: float | None = 5.0,  # noqa: ASYNC109 - per publish, as named in docs/kernel.md
        message_type: str | None = None,
        content_type: str = CLOUDEVENTS_CONTENT_TYPE,
        current_trace: bool = True,
    ) -> None:
        """Publish persistent and mandatory; return once confirmed, else raise PublishFailed.

        `timeout=None` leaves the deadline to the caller (the relay sets one per window).
        `current_trace=False` sends `headers` as they are: the outbox row carries the trace
        of the transaction that wrote it, and the relay's own context is no one's.
        """
        if not self.is_connected or self._publisher is None:
            raise BrokerUnavailable("broker not connected")
        merged: dict[str, Any] = dict(headers or {})
        if current_trace and "traceparent" not in merged:
            # Direct publishes (consumer retries, parking) take the current trace.
            merged = inject_trace_headers(merged)
        message = aio_pika.Message(
            body,
            headers=merged,
            content_type=content_type,
            message_id=message_id,
            type=message_type,
            app_id=self.connection_name,
            user_id=self.user,
            # The default is NOT_PERSISTENT: a broker restart would drop the message.
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            expiration=expiration,
        )
        try:
            # A robust channel that is down makes publish() wait for the reconnect
            # instead of failing (aio-pika #636): bound it. This one deadline also bounds
            # the confirm (no second timer per message inside aiormq).
            async with asyncio.timeout(timeout):
                exchange_ = await self._exchange(exchange)
                await exchange_.publish(message, routing_key, mandatory=True, timeout=None)
        except aiormq.exceptions.PublishError as exc:
            raise Unroutable(f"unroutable: {exchange!r} {routing_key!r}") from exc
        except aiormq.exceptions.DeliveryError as exc:
            raise Rejected(f"nacked: {exchange!r} {routing_key!r}") from exc
        except (TimeoutError, aiormq.exceptions.AMQPError, RuntimeError, ConnectionError) as exc:
            # RuntimeError covers ChannelInvalidStateError during a reconnect (#688).
            raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc
