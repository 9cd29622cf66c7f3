"""Processes SIGKILLed at the worst moments: the effect still happens exactly once.

A consumer process (tests/faults/worker.py) is killed inside a handler's transaction and,
in a second process, after the commit but before the ack; an outbox relay process is
killed after the broker confirmed its messages but before it marked them published.
Nothing here stops a server, so the machine's PostgreSQL and RabbitMQ serve (a database
and a vhost of their own).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from tests.faults.worker import EFFECTS_DDL, ParcelSent

from bibmon_common.events import to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.outbox import OUTBOX_INBOX_DDL, enqueue
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_common.testing.amqp import fresh_vhost
from bibmon_common.testing.db import fresh_database

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]

WORKER = Path(__file__).with_name("worker.py")
QUEUE = "faults.parcels"


@pytest_asyncio.fixture(loop_scope="session")
async def dsn() -> AsyncIterator[str]:
    async with fresh_database("bibmon_faults_kill") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(OUTBOX_INBOX_DDL)
            await conn.execute(EFFECTS_DDL)
            # A backend whose client died ends within 0.2 s, not at its next write (as
            # TCP keepalive would end it in production, only later).
            name = dsn.rsplit("/", 1)[1]
            await conn.execute(
                f"ALTER DATABASE \"{name}\" SET client_connection_check_interval = '200ms'"
            )
        finally:
            await conn.close()
        yield dsn


@pytest_asyncio.fixture(loop_scope="session")
async def amqp_url() -> AsyncIterator[str]:
    async with fresh_vhost("bibmon_faults_kill") as url:
        yield url


class Worker:
    """One worker process; its output (structlog lines) is kept for the assertions."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.log = tmp / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), *args],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    async def ready(self, within: float = 30) -> None:
        for _ in range(int(within * 10)):
            if "ready" in self.output():
                return
            assert self.process.poll() is None, f"worker ended early:\n{self.output()}"
            await asyncio.sleep(0.1)
        raise AssertionError(f"worker not ready:\n{self.output()}")

    async def killed(self, within: float = 30) -> None:
        """Wait until the process died of its own SIGKILL."""
        for _ in range(int(within * 10)):
            if self.process.poll() is not None:
                assert self.process.returncode == -signal.SIGKILL, self.output()
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"worker still running:\n{self.output()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


async def effects(dsn: str) -> dict[uuid.UUID, int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT message_id, count(*) AS n FROM effects WHERE consumer = $1 GROUP BY message_id",
            QUEUE,
        )
    finally:
        await conn.close()
    return {r["message_id"]: int(r["n"]) for r in rows}


async def until(probe, within: float, what: str):  # type: ignore[no-untyped-def]
    for _ in range(int(within * 10)):
        if value := await probe():
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {within} s: {what}")


@pytest.mark.asyncio(loop_scope="session")
async def test_consumer_killed_inside_a_handler_and_before_an_ack_applies_each_message_once(
    dsn: str, amqp_url: str, tmp_path: Path
) -> None:
    sent = [to_envelope(ParcelSent(parcel_id=uuid.uuid4()), source="test") for _ in range(40)]
    in_handler, before_ack = sent[5].id, sent[20].id
    first = Worker(tmp_path, "consume", dsn, amqp_url, QUEUE, "--kill-in-handler", str(in_handler))
    workers = [first]
    broker = Broker(amqp_url, "fault-test")
    await broker.connect()
    try:
        await first.ready()
        for envelope in sent:
            await broker.publish(
                EVENTS_EXCHANGE, envelope.type, envelope.to_bytes(), message_id=str(envelope.id)
            )
        await first.killed()
        # Its write died with its transaction.
        assert (await effects(dsn)).get(in_handler) is None

        second = Worker(
            tmp_path, "consume", dsn, amqp_url, QUEUE, "--kill-before-ack", str(before_ack)
        )
        workers.append(second)
        await second.ready()
        await second.killed()
        # Committed, but the broker never got the ack: it delivers the message again.
        assert (await effects(dsn)).get(before_ack) == 1

        third = Worker(tmp_path, "consume", dsn, amqp_url, QUEUE)
        workers.append(third)
        await third.ready()

        async def all_applied() -> bool:
            return len(await effects(dsn)) == len(sent)

        await until(all_applied, 60, "every message applied")
        await asyncio.sleep(1)  # a second effect of anything would land now
        applied = await effects(dsn)
        assert applied == {e.id: 1 for e in sent}
        # The redelivered, already committed message reached the third process and was
        # recognised by the inbox (without it, it would have two effects now).
        assert "duplicate_skipped" in third.output()
    finally:
        for worker in workers:
            worker.kill()
        await broker.close()


HOLD_MARKING = """
CREATE FUNCTION hold_marking() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(120);
    RETURN NULL;
END $$;
CREATE TRIGGER hold_marking BEFORE UPDATE ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION hold_marking();
"""


@pytest.mark.asyncio(loop_scope="session")
async def test_relay_killed_between_the_confirm_and_marking_published_applies_each_once(
    dsn: str, amqp_url: str, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(dsn)
    consumer = relay = second_relay = None
    try:
        await conn.execute("TRUNCATE outbox, inbox, effects")
        ids = []
        async with conn.transaction():
            for _ in range(30):
                ids.append(await enqueue(conn, ParcelSent(parcel_id=uuid.uuid4()), source="faults"))
        # Marking published waits here: the relay has published and the broker confirmed.
        await conn.execute(HOLD_MARKING)
        consumer = Worker(tmp_path, "consume", dsn, amqp_url, QUEUE)
        await consumer.ready()
        relay = Worker(tmp_path, "relay", dsn, amqp_url)
        await relay.ready()

        async def all_delivered() -> bool:
            return len(await effects(dsn)) == len(ids)

        await until(all_delivered, 60, "every outbox message delivered")

        async def relay_is_marking() -> bool:
            n = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE query LIKE '%UPDATE outbox SET published_at%' AND wait_event = 'PgSleep'"
            )
            return bool(n)

        await until(relay_is_marking, 30, "the relay marking its batch published")
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 30
        relay.kill()

        async def its_session_ended() -> bool:
            return not await relay_is_marking()

        await until(its_session_ended, 30, "the killed relay's database session ended")
        await conn.execute("DROP TRIGGER hold_marking ON outbox; DROP FUNCTION hold_marking()")
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 30

        second_relay = Worker(tmp_path, "relay", dsn, amqp_url)
        await second_relay.ready()

        async def all_marked() -> bool:
            n = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            return n == 0

        await until(all_marked, 60, "every row published by the second relay")

        async def duplicates_seen() -> bool:
            return consumer.output().count("duplicate_skipped") >= len(ids)

        # The second relay published all 30 again; the consumer skipped each copy.
        await until(duplicates_seen, 30, "the consumer skipping the 30 copies")
        assert await effects(dsn) == dict.fromkeys(ids, 1)
    finally:
        for worker in (consumer, relay, second_relay):
            if worker is not None:
                worker.kill()
        await conn.close()
