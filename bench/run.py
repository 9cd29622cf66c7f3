"""Benchmarks on this machine: outbox → RabbitMQ → inbox throughput, and argon2id cost.

Runs against the real PostgreSQL and RabbitMQ (a throw-away database and vhost), bounded in
count and time, loopback only. Writes bench/results/<UTC date>-<name>.json and prints a summary.
Usage: `make bench` or `uv run python bench/run.py [--events N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import asyncpg

from bibmon_common.db import create_pool
from bibmon_common.events import CloudEvent, Event, Message, register
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.outbox import OUTBOX_INBOX_DDL, OutboxRelay, enqueue
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_common.testing.amqp import fresh_vhost
from bibmon_common.testing.db import fresh_database
from bibmon_identity.domain.passwords import PasswordHashing

RESULTS = Path(__file__).resolve().parent / "results"


@register
class BenchTicked(Event):
    """Sent only by the benchmark: one tick of a throughput run."""

    type: ClassVar[str] = "bench.load.ticked.v1"
    n: int
    run_id: UUID


async def outbox_to_inbox(events: int) -> dict[str, Any]:
    """Enqueue `events` (one transaction each), relay them, consume them with the inbox."""
    async with fresh_database("bibmon_bench") as dsn, fresh_vhost("bibmon_bench") as amqp:
        pool = await create_pool(dsn, max_size=8)
        async with pool.acquire() as conn:
            await conn.execute(OUTBOX_INBOX_DDL)
            await conn.execute("CREATE TABLE tick (n int PRIMARY KEY)")
        broker = Broker(amqp, connection_name="bench")
        await broker.connect()
        done = asyncio.Event()
        seen = 0

        async def on_tick(conn: asyncpg.Connection, message: Message, _env: CloudEvent) -> None:
            nonlocal seen
            assert isinstance(message, BenchTicked)
            await conn.execute("INSERT INTO tick (n) VALUES ($1)", message.n)
            seen += 1
            if seen >= events:
                done.set()

        consumer = Consumer(
            broker,
            pool,
            queue="bench.ticks",
            exchange=EVENTS_EXCHANGE,
            handlers={BenchTicked.type: on_tick},
            prefetch=64,
        )
        await consumer.start()
        relay = OutboxRelay(pool, broker, poll_interval=0.2)
        run_id = UUID(int=0)
        t0 = time.perf_counter()
        async with pool.acquire() as conn:
            for n in range(events):
                async with conn.transaction():
                    await enqueue(conn, BenchTicked(n=n, run_id=run_id), source="bench")
        t_enqueued = time.perf_counter()
        await relay.start()
        async with asyncio.timeout(300):
            await done.wait()
        t_done = time.perf_counter()
        await relay.stop()
        await consumer.stop()
        await broker.close()
        async with pool.acquire() as conn:
            stored = await conn.fetchval("SELECT count(*) FROM tick")
            duplicates = await conn.fetchval("SELECT count(*) - count(DISTINCT n) FROM tick")
        await pool.close()
    return {
        "events": events,
        "enqueue_per_second": round(events / (t_enqueued - t0), 1),
        "relay_and_consume_per_second": round(events / (t_done - t_enqueued), 1),
        "end_to_end_seconds": round(t_done - t0, 2),
        "stored": stored,
        "duplicates": duplicates,
    }


async def argon2_cost(rounds: int) -> dict[str, Any]:
    """Verify time of the production argon2id parameters (t=3, m=64 MiB, p=4)."""
    hashing = PasswordHashing()
    stored = await hashing.hash("een lange zin over bibliotheken en boeken")
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        assert await hashing.verify(stored, "een lange zin over bibliotheken en boeken")
        times.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    await asyncio.gather(
        *(hashing.verify(stored, "wrong password of some length") for _ in range(8))
    )
    parallel = (time.perf_counter() - t0) * 1000
    return {
        "rounds": rounds,
        "verify_ms_median": round(statistics.median(times), 1),
        "verify_ms_max": round(max(times), 1),
        "eight_concurrent_verifies_ms": round(parallel, 1),
    }


async def main() -> None:
    """Run every benchmark and write one result file."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "outbox_to_inbox": await outbox_to_inbox(args.events),
        "argon2id": await argon2_cost(args.rounds),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-platform.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    asyncio.run(main())
