"""Benchmark of the event pipeline: outbox → relay → RabbitMQ → idempotent consumer, events/s.

Measured side by side in one run against the real PostgreSQL and RabbitMQ (a throw-away
database and vhost), every role in its own process as in production:

- **kernel**: `events` rows are written to the outbox first (not timed), then the clock
  starts and `OutboxRelay` processes publish them while `Consumer` processes run the inbox
  and a handler that inserts one row per event; the clock stops when every row is stored.
- **raw**: aio-pika alone, the same message bodies, publisher confirms in windows of 100
  (publish 100, gather their confirms), a plain consumer acking each message by hand.

Both in two layouts: one publisher (relay) and one consumer process, and two of each side
by side. The ratio kernel/raw per layout is the figure of issue 11 (goal ≥ 0.5×). The
bench checks the counts: every event stored, none twice, nothing left in the outbox; the
raw run checks it received every message. Each result also gives the CPU time the
client processes used per event (relay + consumer, or publisher + consumer; not the
servers'): on a machine shared with other work the wall-clock rate follows the load, the
CPU cost hardly. Not asserted in tests; written to bench/results/<UTC date>-pipeline.json.
Each layout runs `--rounds` times (default 5), raw and kernel alternating: raw's own rate
varies by a fifth between runs on this machine, so the round with the median ratio
stands for the layout and every round is kept in the file. Each kernel run also gives
PostgreSQL's and RabbitMQ's CPU per event (both run on this machine) and how many events
a consumer transaction held.
Usage: `uv run python bench/pipeline.py [--events 10000] [--rounds 5]` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import aio_pika
import asyncpg
import structlog
import uvloop
from proc_cpu import processes

from bibmon_common.db import create_pool, reserve_for_requests
from bibmon_common.events import CloudEvent, Event, Message, register
from bibmon_common.logging import configure_logging
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.outbox import OUTBOX_INBOX_DDL, OutboxRelay, enqueue
from bibmon_common.messaging.topology import EVENTS_EXCHANGE, declare_consumer_queues
from bibmon_common.telemetry import configure_telemetry
from bibmon_common.testing.amqp import fresh_vhost
from bibmon_common.testing.db import fresh_database

RESULTS = Path(__file__).resolve().parent / "results"
QUEUE = "bench.pipeline"
RAW_QUEUE = "bench.pipeline.raw"
RAW_ROUTING_KEY = "bench.pipeline.raw.v1"  # not the kernel's type: each run fills its own queue
RAW_WINDOW = 100
RAW_PREFETCH = 100
GOAL_RATIO = 0.5


@register
class PipelineTicked(Event):
    """Sent only by the pipeline benchmark: one event of a throughput run."""

    type: ClassVar[str] = "bench.pipeline.ticked.v1"
    n: int
    run_id: UUID


# ---------------------------------------------------------------- child processes
# Each child prints "ready", waits for "go" on stdin, works, and answers "stop" with a
# final JSON line. The parent starts the clock when every child is ready.


async def _lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


# A child's conversation with the parent (its stdout when it started).
_CONTROL = sys.stdout


def _say(*words: object) -> None:
    print(*words, file=_CONTROL, flush=True)


async def child_relay(dsn: str, amqp: str) -> None:
    """An outbox relay as a service runs it (its pool and background bound)."""
    pool = await create_pool(dsn)
    reserve_for_requests(pool)
    broker = Broker(amqp, "bench-relay")
    await broker.connect()
    relay = OutboxRelay(pool, broker)
    stdin = await _lines()
    _say("ready")
    await stdin.readline()  # go
    cpu = time.process_time()
    await relay.start()
    await stdin.readline()  # stop
    await relay.stop()
    cpu = time.process_time() - cpu
    await broker.close()
    await pool.close()
    _say(json.dumps({"cpu_seconds": cpu}))


async def child_consumer(dsn: str, amqp: str) -> None:
    """A consumer as a service runs it: inbox + handler in one transaction, then ack."""
    pool = await create_pool(dsn)
    reserve_for_requests(pool)
    broker = Broker(amqp, "bench-consumer")
    await broker.connect()

    async def on_tick(conn: asyncpg.Connection, message: Message, _env: CloudEvent) -> None:
        assert isinstance(message, PipelineTicked)
        await conn.execute("INSERT INTO tick (n) VALUES ($1)", message.n)

    consumer = Consumer(
        broker,
        pool,
        queue=QUEUE,
        exchange=EVENTS_EXCHANGE,
        handlers={PipelineTicked.type: on_tick},
    )
    await consumer.start()
    stdin = await _lines()
    _say("ready")
    await stdin.readline()  # go
    cpu = time.process_time()
    await stdin.readline()  # stop
    await consumer.stop()
    cpu = time.process_time() - cpu
    await broker.close()
    await pool.close()
    _say(json.dumps({"cpu_seconds": cpu}))


async def child_raw_publisher(amqp: str, bodies_file: str, part: int, parts: int) -> None:
    """aio-pika with confirms: publish a window of 100, gather its confirms, repeat."""
    bodies = json.loads(Path(bodies_file).read_text())[part::parts]  # noqa: ASYNC240 (untimed)
    connection = await aio_pika.connect(amqp)
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(EVENTS_EXCHANGE, ensure=False)
    stdin = await _lines()
    _say("ready")
    await stdin.readline()  # go
    cpu = time.process_time()
    for start in range(0, len(bodies), RAW_WINDOW):
        await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(
                        body.encode(),
                        message_id=message_id,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    RAW_ROUTING_KEY,
                )
                for message_id, body in bodies[start : start + RAW_WINDOW]
            )
        )
    cpu = time.process_time() - cpu
    await stdin.readline()  # stop
    await connection.close()
    _say(json.dumps({"published": len(bodies), "cpu_seconds": cpu}))


async def child_raw_consumer(amqp: str) -> None:
    """A plain aio-pika consumer acking each message by hand; reports its count as it goes."""
    connection = await aio_pika.connect(amqp)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=RAW_PREFETCH)
    queue = await channel.get_queue(RAW_QUEUE, ensure=False)
    ids: list[str] = []

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        ids.append(message.message_id or "")
        await message.ack()

    await queue.consume(on_message)
    stdin = await _lines()
    _say("ready")
    await stdin.readline()  # go
    cpu = time.process_time()
    stop = asyncio.create_task(stdin.readline())
    reported = -1
    while not stop.done():
        if len(ids) != reported:
            reported = len(ids)
            _say("count", reported)
        await asyncio.wait([stop], timeout=0.02)
    cpu = time.process_time() - cpu
    await connection.close()
    _say(json.dumps({"ids": ids, "cpu_seconds": cpu}))


# ---------------------------------------------------------------- the parent


def server_cpu() -> dict[str, float]:
    """CPU seconds used so far by PostgreSQL's and RabbitMQ's processes on this machine
    (both run here, as on CI); a backend that exits takes its share with it, so this is
    read while the run's connections are still open."""
    used = {"postgres": 0.0, "rabbitmq": 0.0}
    for name, _group, seconds in processes():
        if name == "postgres":
            used["postgres"] += seconds
        elif name.startswith("beam"):
            used["rabbitmq"] += seconds
    return used


def server_cpu_since(before: dict[str, float], events: int) -> dict[str, float]:
    after = server_cpu()
    return {
        f"{role}_cpu_ms_per_event": round((after[role] - before[role]) * 1000 / events, 3)
        for role in before
    }


class Child:
    """One child process of this script, driven over its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.count = 0

    @classmethod
    async def start(cls, *args: str) -> Child:
        # BENCH_PIPELINE_PROFILE=<dir>: py-spy samples the relay and consumer processes
        # (collapsed stacks in <dir>/<role>-<pid of py-spy>.txt; `pip install py-spy`).
        profile = os.environ.get("BENCH_PIPELINE_PROFILE")
        spy: list[str] = []
        if profile and args[0] in ("relay", "consumer"):
            os.makedirs(profile, exist_ok=True)
            out = Path(profile) / f"{args[0]}-{time.monotonic_ns()}.txt"
            spy = ["py-spy", "record", "--format", "raw", "-r", "250", "-o", str(out), "--"]
        process = await asyncio.create_subprocess_exec(
            *spy,
            sys.executable,
            __file__,
            "--child",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,  # the raw consumers' final line lists every message id
        )
        return cls(process)

    async def line(self) -> str:
        assert self.process.stdout is not None
        raw = await self.process.stdout.readline()
        if not raw:
            raise RuntimeError(f"child {self.process.pid} ended early")
        return raw.decode().strip()

    async def ready(self) -> None:
        while await self.line() != "ready":
            pass

    def send(self, word: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(word.encode() + b"\n")

    async def follow_counts(self) -> None:
        """Keep `count` up to date from the child's reports (raw consumers)."""
        while True:
            line = await self.line()
            if line.startswith("count "):
                self.count = int(line.split()[1])
            else:
                self.final = json.loads(line)
                return

    async def finish(self) -> dict[str, Any]:
        self.send("stop")
        line = await self.line()
        while not line.startswith("{"):
            line = await self.line()
        await self.process.wait()
        result: dict[str, Any] = json.loads(line)
        return result


async def fill_outbox(pool: asyncpg.Pool, events: int, run_id: UUID) -> None:
    async with pool.acquire() as conn:
        for start in range(0, events, 500):
            async with conn.transaction():
                for n in range(start, min(events, start + 500)):
                    await enqueue(conn, PipelineTicked(n=n, run_id=run_id), source="bench")


_DUE = "SELECT EXISTS (SELECT FROM outbox WHERE published_at IS NULL)"


async def run_kernel(
    dsn: str, amqp: str, events: int, relays: int, consumers: int
) -> dict[str, Any]:
    """Outbox rows → `relays` relay processes → RabbitMQ → `consumers` consumer processes."""
    admin = await asyncpg.connect(dsn)
    await admin.execute("TRUNCATE outbox, inbox, tick")
    pool = await create_pool(dsn, max_size=2)
    await fill_outbox(pool, events, UUID(int=relays * 10 + consumers))
    await pool.close()
    consumer_children = [await Child.start("consumer", dsn, amqp) for _ in range(consumers)]
    relay_children = [await Child.start("relay", dsn, amqp) for _ in range(relays)]
    for child in consumer_children + relay_children:
        await child.ready()
    servers = server_cpu()
    t0 = time.perf_counter()
    for child in consumer_children + relay_children:
        child.send("go")
    async with asyncio.timeout(600):
        # Polling another process's database (no event to wait on here).
        relayed_at = None
        while await admin.fetchval("SELECT count(*) FROM tick") < events:
            if relayed_at is None and not await admin.fetchval(_DUE):
                relayed_at = time.perf_counter()
            await asyncio.sleep(0.02)
    seconds = time.perf_counter() - t0
    servers_used = server_cpu_since(servers, events)
    relay_seconds = (relayed_at or time.perf_counter()) - t0
    await asyncio.sleep(0.5)  # late duplicates, if any, would arrive now
    relay_cpu = sum([(await child.finish())["cpu_seconds"] for child in relay_children])
    consumer_cpu = sum([(await child.finish())["cpu_seconds"] for child in consumer_children])
    cpu = relay_cpu + consumer_cpu
    counts = await admin.fetchrow("SELECT count(*), count(DISTINCT n) FROM tick")
    assert counts is not None
    stored, distinct = counts
    unpublished = await admin.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    attempts = await admin.fetchval("SELECT max(attempts) FROM outbox")
    # The consumers' transactions: inbox rows of one transaction share its now().
    transactions = await admin.fetchval("SELECT count(DISTINCT processed_at) FROM inbox")
    await admin.close()
    if stored != events or distinct != events or unpublished:
        raise SystemExit(f"pipeline lost or doubled events: {stored=} {distinct=} {unpublished=}")
    return {
        "relays": relays,
        "consumers": consumers,
        "events": events,
        "seconds": round(seconds, 3),
        "events_per_second": round(events / seconds, 1),
        "relay_done_after_seconds": round(relay_seconds, 3),
        # Of the relay and consumer processes only (not PostgreSQL's or RabbitMQ's).
        "client_cpu_ms_per_event": round(cpu * 1000 / events, 3),
        "relay_cpu_ms_per_event": round(relay_cpu * 1000 / events, 3),
        "consumer_cpu_ms_per_event": round(consumer_cpu * 1000 / events, 3),
        **servers_used,
        "consumer_transactions": transactions,
        "events_per_consumer_transaction": round(events / transactions, 1),
        "stored": stored,
        "duplicates": stored - distinct,
        "left_in_outbox": unpublished,
        "max_publish_attempts": attempts,
    }


async def run_raw(
    amqp: str, bodies_file: str, events: int, publishers: int, consumers: int
) -> dict:
    """The same bodies through aio-pika alone: confirms in windows of 100, manual acks."""
    consumer_children = [await Child.start("raw-consumer", amqp) for _ in range(consumers)]
    publisher_children = [
        await Child.start("raw-publisher", amqp, bodies_file, str(i), str(publishers))
        for i in range(publishers)
    ]
    for child in consumer_children + publisher_children:
        await child.ready()
    servers = server_cpu()
    t0 = time.perf_counter()
    for child in consumer_children + publisher_children:
        child.send("go")
    followers = [asyncio.create_task(child.follow_counts()) for child in consumer_children]
    async with asyncio.timeout(600):
        while sum(child.count for child in consumer_children) < events:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    seconds = time.perf_counter() - t0
    servers_used = server_cpu_since(servers, events)
    await asyncio.sleep(0.5)
    cpu = sum([(await child.finish())["cpu_seconds"] for child in publisher_children])
    ids: list[str] = []
    for child, follower in zip(consumer_children, followers, strict=True):
        child.send("stop")
        await follower
        await child.process.wait()
        ids.extend(child.final["ids"])
        cpu += child.final["cpu_seconds"]
    if len(ids) != events or len(set(ids)) != events:
        raise SystemExit(f"raw run lost or doubled messages: {len(ids)=} {len(set(ids))=}")
    return {
        "publishers": publishers,
        "consumers": consumers,
        "events": events,
        "seconds": round(seconds, 3),
        "events_per_second": round(events / seconds, 1),
        "client_cpu_ms_per_event": round(cpu * 1000 / events, 3),
        **servers_used,
        "received": len(ids),
        "duplicates": len(ids) - len(set(ids)),
        "confirm_window": RAW_WINDOW,
        "prefetch": RAW_PREFETCH,
    }


async def setup(dsn: str, amqp: str, events: int, bodies_file: Path) -> None:
    conn = await asyncpg.connect(dsn)
    await conn.execute(OUTBOX_INBOX_DDL)
    await conn.execute("CREATE TABLE tick (id bigserial PRIMARY KEY, n int NOT NULL)")
    await conn.close()
    # The consumer declares its queues; the raw run gets a plain quorum queue of its own.
    broker = Broker(amqp, "bench-setup")
    await broker.connect()
    channel = await broker.channel()
    await declare_consumer_queues(channel, QUEUE, (5, 60, 600))
    raw = await channel.declare_queue(RAW_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    await raw.bind(EVENTS_EXCHANGE, routing_key=RAW_ROUTING_KEY)
    await broker.close()
    # The raw run sends the very bodies the relay sends (CloudEvents JSON).
    from bibmon_common.events import to_envelope

    now = datetime.now(UTC)
    bodies = []
    for n in range(events):
        message_id = UUID(int=n + 1)
        envelope = to_envelope(
            PipelineTicked(n=n, run_id=UUID(int=0)), source="bench", id=message_id, time=now
        )
        bodies.append((str(message_id), envelope.model_dump_json()))
    bodies_file.write_text(json.dumps(bodies))  # noqa: ASYNC240 (set-up, untimed)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--single-only", action="store_true", help="skip the 2 + 2 layout")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="raw and kernel runs per layout, alternating; the figures are their medians",
    )
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    layouts = ((1, 1),) if args.single_only else ((1, 1), (2, 2))
    async with fresh_database("bibmon_bench_pipe") as dsn, fresh_vhost("bibmon_bench") as amqp:
        bodies_file = Path(f"/tmp/bibmon-bench-pipeline-{os.getpid()}.json")
        try:
            await setup(dsn, amqp, args.events, bodies_file)
            results = []
            for publishers, consumers in layouts:
                rounds = []
                for _ in range(args.rounds):
                    # Raw first, kernel right after: the same machine state for both.
                    raw = await run_raw(amqp, str(bodies_file), args.events, publishers, consumers)
                    kernel = await run_kernel(dsn, amqp, args.events, publishers, consumers)
                    ratio = kernel["events_per_second"] / raw["events_per_second"]
                    rounds.append({"kernel": kernel, "raw": raw, "ratio": round(ratio, 3)})
                    print(
                        f"  round: kernel {kernel['events_per_second']:.0f}/s, "
                        f"raw {raw['events_per_second']:.0f}/s, ratio {ratio:.2f}x",
                        flush=True,
                    )
                # The round with the median ratio stands for the layout (its figures are
                # of one run, raw and kernel side by side); every round is kept.
                middle = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
                results.append(
                    {
                        "kernel": middle["kernel"],
                        "raw": middle["raw"],
                        "ratio": round(middle["ratio"], 2),
                        "ratios_of_every_round": [r["ratio"] for r in rounds],
                        "rounds": rounds,
                    }
                )
                print(
                    f"{publishers} publisher(s) / {consumers} consumer(s), median of "
                    f"{len(rounds)} rounds: kernel {middle['kernel']['events_per_second']:.0f}/s,"
                    f" raw {middle['raw']['events_per_second']:.0f}/s, ratio "
                    f"{middle['ratio']:.2f}x (goal {GOAL_RATIO}x)",
                    flush=True,
                )
        finally:
            bodies_file.unlink(missing_ok=True)  # noqa: ASYNC240
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1m_at_start": round(load_start, 2),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "what": (
            "outbox -> OutboxRelay -> RabbitMQ -> Consumer (inbox + one INSERT per event), "
            "every role its own process; raw: aio-pika, confirms in windows of 100, manual ack"
        ),
        "goal_ratio": GOAL_RATIO,
        "layouts": results,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-pipeline.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


def quiet_logs() -> None:
    """Warnings and up, on stderr: a child's stdout is its conversation with the parent."""
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )


def as_a_service(role: str) -> None:
    """Log and trace as a service does (bibmon_common.app): JSON lines at INFO (to
    /dev/null here: the log lines are made and written, not kept), a tracer provider
    (spans made, no exporter configured, as in development)."""
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the process's log stream)
    configure_logging(f"bench-{role}", "INFO", json=True)
    configure_telemetry(f"bench-{role}")


def child_main(argv: list[str]) -> None:
    """Run one role on uvloop, the event loop the services run on (uvicorn picks it when
    installed, as it is); the raw baseline's processes run on it too. The relay and the
    consumer log and trace as a service does; the raw processes are bare aio-pika."""
    role, *rest = argv
    if role in ("relay", "consumer"):
        as_a_service(role)
    if role == "relay":
        uvloop.run(child_relay(*rest))
    elif role == "consumer":
        uvloop.run(child_consumer(*rest))
    elif role == "raw-publisher":
        amqp, bodies_file, part, parts = rest
        uvloop.run(child_raw_publisher(amqp, bodies_file, int(part), int(parts)))
    elif role == "raw-consumer":
        uvloop.run(child_raw_consumer(*rest))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    quiet_logs()
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        asyncio.run(main())
