"""Replaying a real parking queue: the `replay-parked` command and its function."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import pytest

from bibmon_common.events import CloudEvent, Event, Message, register, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.replay import replay_parked
from bibmon_common.messaging.topology import EVENTS_EXCHANGE, parking_queue_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@register
class BookLent(Event):
    """Test-only event."""

    type: ClassVar[str] = "test.replay.book_lent.v1"

    book_id: UUID


@register
class BookReturned(Event):
    """Test-only event."""

    type: ClassVar[str] = "test.replay.book_returned.v1"

    book_id: UUID


class Switchable:
    """A handler that fails until it is repaired, counting its calls per message."""

    def __init__(self) -> None:
        self.broken = True
        self.calls: dict[UUID, int] = {}

    async def __call__(self, conn: asyncpg.Connection, message: Message, env: CloudEvent) -> None:
        self.calls[env.id] = self.calls.get(env.id, 0) + 1
        if self.broken:
            raise RuntimeError("bug, fixed in the next release")
        await conn.execute(
            "INSERT INTO effects (consumer, message_id) VALUES ('replay', $1)", env.id
        )


async def publish(broker: Broker, message: Event) -> CloudEvent:
    envelope = to_envelope(message, source="test")
    await broker.publish(
        EVENTS_EXCHANGE, message.type, envelope.to_bytes(), message_id=str(envelope.id)
    )
    return envelope


async def parked_count(channel: Any, queue: str) -> int:
    """Messages in the parking queue, looked at and handed back (quorum queues' declare-ok
    counts none on RabbitMQ 3.10)."""
    parking = await channel.get_queue(parking_queue_name(queue), ensure=False)
    seen = []
    while (message := await parking.get(fail=False, no_ack=False)) is not None:
        seen.append(message)
    for message in seen:
        await message.nack(requeue=True)
    return len(seen)


@pytest.mark.asyncio(loop_scope="session")
async def test_replay_parked_gives_each_message_its_full_retries_and_filters_by_type(
    broker, pool, queue_name, channel, wait_until, amqp_url
):
    handler = Switchable()
    consumer = Consumer(
        broker,
        pool,
        queue=queue_name,
        exchange=EVENTS_EXCHANGE,
        handlers={BookLent.type: handler, BookReturned.type: handler},
        retry_delays=(0.1, 0.1),
    )
    await consumer.start()
    try:
        lent = await publish(broker, BookLent(book_id=uuid.uuid4()))
        returned = await publish(broker, BookReturned(book_id=uuid.uuid4()))

        async def both_parked() -> bool:
            return await parked_count(channel, queue_name) == 2

        await wait_until(both_parked)
        assert handler.calls == {lent.id: 3, returned.id: 3}

        # A dry run, through the real command line, changes nothing.
        env = {**os.environ, "BIBMON_SURVEYS_AMQP_URL": amqp_url}
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "bibmon-surveys"),
            "replay-parked",
            "--queue",
            queue_name,
            "--dry-run",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert str(lent.id) in out.decode()
        assert "reason=handler_failed" in out.decode()
        assert await parked_count(channel, queue_name) == 2

        # Still broken: the replayed message gets all its attempts again, then parks again.
        report = await replay_parked(broker, queue_name, types=[BookLent.type])
        assert [m.message_id for m in report.replayed] == [str(lent.id)]
        assert [m.message_id for m in report.kept] == [str(returned.id)]

        async def lent_tried_again() -> bool:
            return handler.calls[lent.id] == 6 and await parked_count(channel, queue_name) == 2

        await wait_until(lent_tried_again)

        handler.broken = False
        report = await replay_parked(broker, queue_name)
        assert sorted(m.message_id or "" for m in report.replayed) == sorted(
            [str(lent.id), str(returned.id)]
        )

        async def both_handled() -> bool:
            async with pool.acquire() as conn:
                n = await conn.fetchval(
                    "SELECT count(*) FROM effects WHERE consumer = 'replay'"
                    " AND message_id = ANY($1::uuid[])",
                    [lent.id, returned.id],
                )
            return int(n) == 2

        await wait_until(both_handled)
        assert await parked_count(channel, queue_name) == 0
    finally:
        await consumer.stop(grace_period=5)
