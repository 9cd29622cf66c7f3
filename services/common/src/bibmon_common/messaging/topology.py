"""Exchange and queue names and arguments: the broker topology, declared in one place.

Every queue argument is explicit so behaviour is the same on RabbitMQ 3.10 (Debian 12,
dev/CI) and 4.x (production): 4.0 changed the quorum delivery-limit default to 20, 3.10
has none. Arguments must be identical on every declaration, or RabbitMQ closes the
channel with PRECONDITION_FAILED; so they are built here only (docs/reliability.md).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractQueue

from bibmon_common.events import COMMANDS_EXCHANGE, EVENTS_EXCHANGE

__all__ = [
    "COMMANDS_EXCHANGE",
    "DEFAULT_EXCHANGE",
    "DELIVERY_LIMIT",
    "DLX",
    "EVENTS_EXCHANGE",
    "EXPORTS_EXCHANGE",
    "MAX_LENGTH",
    "consumer_queue_specs",
    "declare_consumer_queues",
    "declare_topology",
    "parking_queue_arguments",
    "parking_queue_name",
    "queue_arguments",
    "retry_queue_arguments",
    "retry_queue_name",
]

DLX = "bibmon.dlx"
EXPORTS_EXCHANGE = "bibmon.exports"
# The nameless default exchange routes by queue name; retry queues dead-letter through it.
DEFAULT_EXCHANGE = ""

# Only a backstop: the consumer counts attempts itself (an attempt header, retry queues,
# parking after the last). What the broker counts differs by version: on 3.10-4.2 every
# return (a dropped connection too), since 4.3 only failed deliveries. So the limit sits
# far above anything healthy traffic reaches (20 connection drops in a minute) and only
# catches a message that keeps killing its consumer process.
DELIVERY_LIMIT = 50
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


async def declare_topology(channel: AbstractChannel, *, passive: bool = False) -> None:
    """Declare the shared exchanges (idempotent; every service does it at start).

    `passive` only checks they exist: a least-privilege user may not configure them, and
    the broker's definitions declare them (bibmon_common.messaging.permissions).
    """
    topic, direct = aio_pika.ExchangeType.TOPIC, aio_pika.ExchangeType.DIRECT
    await channel.declare_exchange(EVENTS_EXCHANGE, topic, durable=True, passive=passive)
    await channel.declare_exchange(COMMANDS_EXCHANGE, topic, durable=True, passive=passive)
    # Dead letters keep their routing key = the work queue's name (x-dead-letter-routing-key).
    await channel.declare_exchange(DLX, direct, durable=True, passive=passive)
    await channel.declare_exchange(EXPORTS_EXCHANGE, topic, durable=True, passive=passive)


def consumer_queue_specs(
    queue: str, retry_delays: Iterable[float]
) -> list[tuple[str, dict[str, Any]]]:
    """Name and arguments of every queue a consumer of `queue` owns: parking, retries, work."""
    return [
        (parking_queue_name(queue), parking_queue_arguments()),
        *((retry_queue_name(queue, d), retry_queue_arguments(queue, d)) for d in retry_delays),
        (queue, queue_arguments(queue)),
    ]


async def declare_consumer_queues(
    channel: AbstractChannel,
    queue: str,
    retry_delays: Iterable[float],
    *,
    passive: Collection[str] = (),
    bind_parking: bool = True,
) -> AbstractQueue:
    """Declare `queue`, its retry queues and its parking queue; return `queue`.

    Queues named in `passive` exist with other arguments: they are used as they are.
    Without `bind_parking` the broker's definitions hold the DLX binding: reading the
    DLX would let a service bind a queue of its own to any other queue's parked messages.
    """
    declared: dict[str, AbstractQueue] = {}
    for name, arguments in consumer_queue_specs(queue, retry_delays):
        if name in passive:
            declared[name] = await channel.declare_queue(name, passive=True)
        else:
            declared[name] = await channel.declare_queue(name, durable=True, arguments=arguments)
    if bind_parking:
        await declared[parking_queue_name(queue)].bind(DLX, routing_key=queue)
    return declared[queue]
