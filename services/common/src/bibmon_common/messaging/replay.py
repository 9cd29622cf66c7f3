"""Replay a parking queue into its work queue, each message with its full retries again.

Every message is taken with basic.get and kept unacknowledged until the end; those that
are replayed are acked only once their copy is confirmed, the others (a dry run, another
type) are handed back in their place. So a replay interrupted half-way loses nothing,
and one that runs twice replays nothing twice (the copies carry the same message id; the
inbox skips a second one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import structlog
from aio_pika.abc import AbstractIncomingMessage

from bibmon_common.events import parse_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    PARKING_REASON_HEADER,
)
from bibmon_common.messaging.topology import DEFAULT_EXCHANGE, parking_queue_name

log = structlog.get_logger(__name__)

__all__ = ["ParkedMessage", "ReplayReport", "replay_parked"]

# What parking and earlier attempts left behind; a replayed message starts afresh.
_RESET_HEADERS = frozenset(
    {
        ATTEMPT_HEADER,
        ERROR_HEADER,
        PARKING_REASON_HEADER,
        "x-death",
        "x-delivery-count",
        "x-first-death-exchange",
        "x-first-death-queue",
        "x-first-death-reason",
        "x-last-death-exchange",
        "x-last-death-queue",
        "x-last-death-reason",
    }
)


@dataclass(frozen=True)
class ParkedMessage:
    """What an operator sees of one parked message (no body: it may hold answers)."""

    message_id: str | None
    type: str | None
    reason: str
    error: str | None
    attempt: int | None


@dataclass
class ReplayReport:
    """What a replay found and did."""

    queue: str
    dry_run: bool
    replayed: list[ParkedMessage] = field(default_factory=list)
    kept: list[ParkedMessage] = field(default_factory=list)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _describe(message: AbstractIncomingMessage) -> ParkedMessage:
    headers = dict(message.headers or {})
    reason = _text(headers.get(PARKING_REASON_HEADER))
    if reason is None:
        # Dead-lettered by the broker itself: the delivery-limit backstop.
        reason = "delivery_limit" if "x-death" in headers else "unknown"
    attempt = headers.get(ATTEMPT_HEADER)
    type_ = message.type
    if type_ is None:
        # Publishers other than the relay may leave the AMQP type out; the envelope has it.
        with contextlib.suppress(Exception):
            type_ = parse_envelope(message.body).type
    return ParkedMessage(
        message_id=message.message_id,
        type=type_,
        reason=reason,
        error=_text(headers.get(ERROR_HEADER)),
        attempt=int(attempt) if isinstance(attempt, int) else None,
    )


async def _replay_one(broker: Broker, queue: str, message: AbstractIncomingMessage) -> None:
    """Publish a fresh copy into the work queue; ack the parked one once it is confirmed."""
    headers = {
        k: _text(v) if isinstance(v, bytes) else v
        for k, v in (message.headers or {}).items()
        if k not in _RESET_HEADERS
    }
    # Straight into the work queue (the default exchange routes by queue name): the
    # event's other subscribers have handled it already.
    await broker.publish(
        DEFAULT_EXCHANGE,
        queue,
        message.body,
        message_id=message.message_id or "",
        headers=headers,
        message_type=message.type,
        content_type=message.content_type or "application/octet-stream",
    )
    await message.ack()


async def replay_parked(
    broker: Broker,
    queue: str,
    *,
    types: Collection[str] = (),
    dry_run: bool = False,
) -> ReplayReport:
    """Move the messages parked for `queue` back into it (only `types`, if given)."""
    report = ReplayReport(queue=queue, dry_run=dry_run)
    channel = await broker.channel()
    try:
        parking = await channel.declare_queue(parking_queue_name(queue), passive=True)
        # First take everything parked now, holding it unacknowledged (so get() returns
        # each once and then None), then act: a replayed message that fails again is
        # parked anew, and must not be read again by this replay. (A quorum queue's
        # declare-ok counts no messages on RabbitMQ 3.10, so it cannot bound the loop.)
        taken: list[AbstractIncomingMessage] = []
        try:
            while (message := await parking.get(fail=False, no_ack=False)) is not None:
                taken.append(message)
            for message in taken:
                seen = _describe(message)
                if dry_run or (types and seen.type not in types):
                    (report.replayed if dry_run else report.kept).append(seen)
                    continue
                await _replay_one(broker, queue, message)
                report.replayed.append(seen)
                log.info(
                    "parking.replayed",
                    queue=queue,
                    message_id=seen.message_id,
                    message_type=seen.type,
                    reason=seen.reason,
                )
        finally:
            # Whatever was not replayed (held, or left by an error) goes back in place.
            for message in taken:
                if not message.processed:
                    with contextlib.suppress(Exception):
                        await message.nack(requeue=True)
    finally:
        await broker.release_channel(channel)
    return report
