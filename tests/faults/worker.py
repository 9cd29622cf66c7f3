"""A kernel consumer or outbox relay in a process of its own, for tests that SIGKILL it.

    python tests/faults/worker.py consume DSN AMQP_URL QUEUE [--kill-in-handler ID]
                                                             [--kill-before-ack ID]
    python tests/faults/worker.py relay DSN AMQP_URL

`--kill-in-handler` kills the process inside the handler's transaction (its write not yet
committed); `--kill-before-ack` kills it after the commit, just before the ack reaches
the broker. The process prints `ready` once it consumes (or relays).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bibmon_common.db import create_pool  # noqa: E402
from bibmon_common.events import CloudEvent, Event, Message, register  # noqa: E402
from bibmon_common.messaging.broker import Broker  # noqa: E402
from bibmon_common.messaging.consumer import Consumer  # noqa: E402
from bibmon_common.messaging.outbox import OutboxRelay  # noqa: E402
from bibmon_common.messaging.topology import EVENTS_EXCHANGE  # noqa: E402

EFFECTS_DDL = """
CREATE TABLE IF NOT EXISTS effects (
    id bigserial PRIMARY KEY,
    consumer text NOT NULL,
    message_id uuid NOT NULL
);
"""


@register
class ParcelSent(Event):
    """Test-only event of the fault suite."""

    type: ClassVar[str] = "test.faultsuite.parcel_sent.v1"

    parcel_id: UUID


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


async def consume(args: argparse.Namespace) -> None:
    broker = Broker(args.amqp_url, "fault-worker", reconnect_interval=0.2)
    await broker.connect()
    pool = await create_pool(args.dsn, max_size=8)

    async def handler(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        await conn.execute(
            "INSERT INTO effects (consumer, message_id) VALUES ($1, $2)", args.queue, envelope.id
        )
        if str(envelope.id) == args.kill_in_handler:
            _die()

    if args.kill_before_ack:
        original = Consumer._ack

        async def ack_or_die(self: Consumer, message: Any) -> None:
            if message.message_id == args.kill_before_ack:
                _die()
            await original(self, message)

        Consumer._ack = ack_or_die  # type: ignore[method-assign]

    consumer = Consumer(
        broker,
        pool,
        queue=args.queue,
        exchange=EVENTS_EXCHANGE,
        handlers={ParcelSent.type: handler},
        retry_delays=(0.2,),
        prefetch=4,
    )
    await consumer.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def relay(args: argparse.Namespace) -> None:
    broker = Broker(args.amqp_url, "fault-relay", reconnect_interval=0.2)
    await broker.connect()
    pool = await create_pool(args.dsn, max_size=8)
    relay = OutboxRelay(pool, broker, poll_interval=0.2)
    await relay.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("consume")
    c.add_argument("dsn")
    c.add_argument("amqp_url")
    c.add_argument("queue")
    c.add_argument("--kill-in-handler")
    c.add_argument("--kill-before-ack")
    r = sub.add_parser("relay")
    r.add_argument("dsn")
    r.add_argument("amqp_url")
    args = parser.parse_args()
    asyncio.run(consume(args) if args.mode == "consume" else relay(args))


if __name__ == "__main__":
    main()
