"""Exchange and queue names and arguments: the broker topology, declared in one place.

Every queue argument is explicit so behaviour is the same on RabbitMQ 3.10 (Debian 12,
dev/CI) and 4.x (production): 4.0 changed the quorum delivery-limit default to 20, 3.10
has none. Arguments must be identical on every declaration, or RabbitMQ closes the
channel with PRECONDITION_FAILED; so they are built here only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractQueue

from bibmon_common.events import COMMANDS_EXCHANGE, EVENTS_EXCHANGE, EXPORTS_EXCHANGE

__all__ = [
    "COMMANDS_EXCHANGE",
    "DEFAULT_EXCHANGE",
    "DELIVERY_LIMIT",
    "DLX",
    "EVENTS_EXCHANGE",
    "EXPORTS_EXCHANGE",
    "MAX_LENGTH",
    "declare_consumer_queues",
    "declare_topology",
    "parking_queue_arguments",
    "parking_queue_name",
    "queue_arguments",
    "retry_queue_arguments",
    "retry_queue_name",
]

DLX = "bibmon.dlx"
# The nameless default exchange routes by queue name; retry queues dead-letter through it.
DEFAULT_EXCHANGE = ""

# Failed deliveries (consumer crash, nack-requeue) before RabbitMQ dead-letters a message
# to the parking queue. Handler exceptions do not count: those go through retry queues.
DELIVERY_LIMIT = 5
MAX_LENGTH = 100_000


def parking_queue_name(queue: str) -> str:
    """Where messages of `queue` end that cannot or may not be processed."""
    return f"{queue}.parking"


def retry_queue_name(queue: str, delay: float) -> str:
    """The delay queue for `queue`: `<queue>.retry.5s` (fractions allowed: `.retry.0.2s`)."""
    return f"{queue}.retry.{delay:g}s"


def _safe_dead_lettering(dead_letter_exchange: str, dead_letter_routing_key: str) -> dict[str, Any]:
    # at-least-once dead-lettering (3.10+) needs reject-publish overflow; with the default
    # drop-head a quorum queue silently falls back to at-most-once.
    return {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": dead_letter_exchange,
        "x-dead-letter-routing-key": dead_letter_routing_key,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-max-length": MAX_LENGTH,
    }


def queue_arguments(name: str) -> dict[str, Any]:
    """Arguments of a work queue: quorum, delivery limit, safe dead-lettering to parking."""
    return {
        **_safe_dead_lettering(DLX, name),
        "x-delivery-limit": DELIVERY_LIMIT,
    }


def retry_queue_arguments(queue: str, delay: float) -> dict[str, Any]:
    """Arguments of a delay queue: no consumer; after `delay` seconds back to `queue`."""
    return {
        **_safe_dead_lettering(DEFAULT_EXCHANGE, queue),
        "x-message-ttl": max(1, round(delay * 1000)),
    }


def parking_queue_arguments() -> dict[str, Any]:
    """Arguments of a parking queue: quorum, bounded, terminal (operators inspect and replay)."""
    return {
        "x-queue-type": "quorum",
        "x-overflow": "reject-publish",
        "x-max-length": MAX_LENGTH,
    }


async def declare_topology(channel: AbstractChannel) -> None:
    """Declare the shared exchanges (idempotent; every service does it at start)."""
    await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    await channel.declare_exchange(COMMANDS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    # Dead letters keep their routing key = the work queue's name (x-dead-letter-routing-key).
    await channel.declare_exchange(DLX, aio_pika.ExchangeType.DIRECT, durable=True)
    await channel.declare_exchange(EXPORTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_consumer_queues(
    channel: AbstractChannel, queue: str, retry_delays: Iterable[float]
) -> AbstractQueue:
    """Declare `queue`, its retry queues and its parking queue; return `queue`."""
    parking = await channel.declare_queue(
        parking_queue_name(queue), durable=True, arguments=parking_queue_arguments()
    )
    await parking.bind(DLX, routing_key=queue)
    for delay in retry_delays:
        await channel.declare_queue(
            retry_queue_name(queue, delay),
            durable=True,
            arguments=retry_queue_arguments(queue, delay),
        )
    return await channel.declare_queue(queue, durable=True, arguments=queue_arguments(queue))
