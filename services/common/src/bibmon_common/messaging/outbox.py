"""Transactional outbox: messages are rows written with the state change, relayed later.

The relay loop is the guarantee; NOTIFY only shortens the wait (a notification sent
while no one listens is lost, so a poll backs it up). Rows are published at least
once: a crash between confirm and `published_at` re-publishes, the inbox absorbs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from bibmon_common.db import background_connection
from bibmon_common.events import EVENTS_EXCHANGE, Message, to_envelope
from bibmon_common.messaging.broker import (
    Broker,
    BrokerUnavailable,
    PublishFailed,
    Unroutable,
)
from bibmon_common.telemetry import inject_trace_headers

log = structlog.get_logger(__name__)

__all__ = [
    "EXPIRES_AT_HEADER",
    "NOTIFY_CHANNEL",
    "OUTBOX_INBOX_DDL",
    "OutboxRelay",
    "enqueue",
    "unroutable_count",
]

NOTIFY_CHANNEL = "bibmon_outbox"
# Absolute deadline of a message with an expiration. The AMQP `expiration` property is
# relative and only counts in a queue; the deadline also covers time spent in the
# outbox and in retry queues, and dead-lettering strips `expiration` anyway.
EXPIRES_AT_HEADER = "x-bibmon-expires-at"

OUTBOX_INBOX_DDL = """
CREATE TABLE IF NOT EXISTS outbox (
    id uuid PRIMARY KEY,
    type text NOT NULL,
    exchange text NOT NULL,
    routing_key text NOT NULL,
    payload jsonb NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    available_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_error text NULL
);
CREATE INDEX IF NOT EXISTS outbox_unpublished_idx
    ON outbox (available_at, created_at) WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_published_at_idx
    ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS inbox (
    consumer text NOT NULL,
    message_id uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);
CREATE INDEX IF NOT EXISTS inbox_processed_at_idx ON inbox (processed_at);
"""

# Parameters are passed as text and cast in SQL so the statements work whether or not
# the pool has a JSONB codec installed.
_INSERT = """
INSERT INTO outbox (id, type, exchange, routing_key, payload, headers, created_at, available_at)
VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb, $7, $7)
"""
_CLAIM = """
SELECT id, exchange, routing_key, type, payload::text AS payload, headers::text AS headers,
       attempts, created_at
FROM outbox
WHERE published_at IS NULL AND available_at <= now()
ORDER BY created_at
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
_MARK_PUBLISHED = """
UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = $2
WHERE id = ANY($1::uuid[])
"""
_MARK_FAILED = """
UPDATE outbox
SET attempts = attempts + 1, last_error = $2,
    available_at = now() + make_interval(secs => $3)
WHERE id = $1
"""
# Rows waiting for a queue to be bound are counted apart (unroutable_count): an event type
# nobody consumes yet would otherwise hold the lag up for the whole retention.
_LAG = """
SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
FROM outbox WHERE published_at IS NULL AND last_error IS DISTINCT FROM $1
"""
_UNROUTABLE_COUNT = """
SELECT count(*) FROM outbox WHERE published_at IS NULL AND last_error = $1
"""
UNROUTABLE_ERROR = "unroutable: no queue bound"

# An event no queue is bound for yet stays due, with back-off, for this long: after an
# empty broker is rebuilt the consumers re-declare their queues and it flows again.
# Only then is it given up (logged, and the row kept with its error until the purge).
# Commands always retry: they must reach their service.
UNROUTABLE_EVENT_RETENTION = timedelta(hours=24)
MAX_BACKOFF = 300.0


def _backoff(attempts: int) -> float:
    """Seconds until the next try after `attempts` failures: 1 s doubling to 5 min, jittered."""
    base = min(MAX_BACKOFF, 2.0 ** max(0, attempts - 1))
    return random.uniform(base / 2, base)


async def enqueue(
    conn: asyncpg.Connection | PoolConnectionProxy,
    message: Message,
    *,
    source: str,
    expiration: timedelta | None = None,
) -> UUID:
    """Write `message` to the outbox in the caller's open transaction; return its id."""
    if not conn.is_in_transaction():
        # Outside a transaction the row is not tied to the state change it reports.
        raise RuntimeError("enqueue() must run inside the caller's transaction")
    now = datetime.now(UTC)
    message_id = uuid.uuid4()
    envelope = to_envelope(message, source=source, id=message_id, time=now)
    headers = inject_trace_headers({})
    expires_at = (
        now + expiration if expiration is not None else getattr(message, "expires_at", None)
    )
    if isinstance(expires_at, datetime):
        headers[EXPIRES_AT_HEADER] = expires_at.astimezone(UTC).isoformat()
    await conn.execute(
        _INSERT,
        message_id,
        message.type,
        message.exchange,
        message.type,
        envelope.model_dump_json(),
        json.dumps(headers),
        now,
    )
    # A hint for the relay, delivered at commit (and dropped on rollback).
    await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
    log.debug("outbox.enqueued", message_id=str(message_id), message_type=message.type)
    return message_id


async def unroutable_count(conn: Any) -> int:
    """Events waiting in the outbox because no queue is bound for them (a pool or connection)."""
    return int(await conn.fetchval(_UNROUTABLE_COUNT, UNROUTABLE_ERROR))


def expires_at_from_headers(headers: dict[str, Any]) -> datetime | None:
    """The absolute deadline carried in `x-bibmon-expires-at`, if any."""
    raw = headers.get(EXPIRES_AT_HEADER)
    if isinstance(raw, bytes):
        raw = raw.decode()
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class OutboxRelay:
    """Background task publishing outbox rows with confirms; safe to run in several replicas."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        broker: Broker,
        *,
        poll_interval: float = 1.0,
        batch_size: int = 100,
        publish_timeout: float = 5.0,
        purge_interval: float = 3600.0,
        published_retention: timedelta = timedelta(days=7),
        inbox_retention: timedelta = timedelta(days=30),
        unroutable_retention: timedelta = UNROUTABLE_EVENT_RETENTION,
    ) -> None:
        self.pool = pool
        self.broker = broker
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.publish_timeout = publish_timeout
        self.purge_interval = purge_interval
        self.published_retention = published_retention
        self.inbox_retention = inbox_retention
        self.unroutable_retention = unroutable_retention
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # A pooled connection held for LISTEN (a PoolConnectionProxy).
        self._listen_conn: Any = None
        self._last_purge = float("-inf")

    async def start(self) -> None:
        """Start the relay loop in the background."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Finish the current batch and stop."""
        self._stopping.set()
        self._wakeup.set()
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._drop_listener()

    def wake(self) -> None:
        """Look for work now instead of at the next poll."""
        self._wakeup.set()

    async def run_once(self) -> int:
        """Publish one batch of due rows; return how many were published."""
        if not self.broker.is_connected:
            return 0
        published = 0
        async with background_connection(self.pool) as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, self.batch_size)
            done: list[UUID] = []
            dropped: list[UUID] = []
            for row in rows:
                outcome = await self._publish_row(conn, row)
                if outcome == "published":
                    done.append(row["id"])
                elif outcome == "dropped":
                    dropped.append(row["id"])
                elif outcome == "unavailable":
                    # The rest of the batch would only time out too; the rows stay due.
                    break
            if done:
                await conn.execute(_MARK_PUBLISHED, done, None)
                published = len(done)
            if dropped:
                await conn.execute(_MARK_PUBLISHED, dropped, "expired before publish")
        if published:
            log.debug("outbox.published", count=published)
        return published

    async def _publish_row(self, conn: Any, row: asyncpg.Record) -> str:
        headers: dict[str, Any] = json.loads(row["headers"]) if row["headers"] else {}
        expiration: timedelta | None = None
        expires_at = expires_at_from_headers(headers)
        if expires_at is not None:
            expiration = expires_at - datetime.now(UTC)
            if expiration <= timedelta(0):
                log.warning("outbox.expired", message_id=str(row["id"]), message_type=row["type"])
                return "dropped"
        try:
            await self.broker.publish(
                row["exchange"],
                row["routing_key"],
                row["payload"].encode(),
                message_id=str(row["id"]),
                headers=headers,
                expiration=expiration,
                timeout=self.publish_timeout,
                message_type=row["type"],
            )
        except BrokerUnavailable as exc:
            log.warning("outbox.broker_unavailable", message_id=str(row["id"]), error=str(exc))
            return "unavailable"
        except PublishFailed as exc:
            attempts = row["attempts"] + 1
            if isinstance(exc, Unroutable) and row["exchange"] == EVENTS_EXCHANGE:
                return await self._unroutable_event(conn, row, attempts)
            delay = _backoff(attempts)
            log.warning(
                "outbox.publish_failed",
                message_id=str(row["id"]),
                message_type=row["type"],
                attempts=attempts,
                retry_in=round(delay, 1),
                error=str(exc),
            )
            await conn.execute(_MARK_FAILED, row["id"], str(exc)[:1000], delay)
            return "failed"
        return "published"

    async def _unroutable_event(self, conn: Any, row: asyncpg.Record, attempts: int) -> str:
        waited = datetime.now(UTC) - row["created_at"]
        if waited >= self.unroutable_retention:
            log.error(
                "outbox.unroutable_event_given_up",
                message_id=str(row["id"]),
                message_type=row["type"],
                attempts=attempts,
                waited_hours=round(waited.total_seconds() / 3600, 1),
            )
            await conn.execute(_MARK_PUBLISHED, [row["id"]], UNROUTABLE_ERROR + " (given up)")
            return "given_up"
        delay = _backoff(attempts)
        if attempts & (attempts - 1) == 0:  # 1, 2, 4, 8 …: visible, not one line a minute
            log.warning(
                "outbox.unroutable_event",
                message_id=str(row["id"]),
                message_type=row["type"],
                attempts=attempts,
                retry_in=round(delay, 1),
            )
        await conn.execute(_MARK_FAILED, row["id"], UNROUTABLE_ERROR, delay)
        return "failed"

    async def lag_seconds(self) -> float:
        """Age of the oldest deliverable unpublished row (0 when none): outbox lag."""
        async with self.pool.acquire() as conn:
            return float(await conn.fetchval(_LAG, UNROUTABLE_ERROR))

    async def purge(self) -> tuple[int, int]:
        """Delete published outbox rows and inbox rows past retention; return the counts."""
        async with self.pool.acquire() as conn:
            outbox = await conn.execute(
                "DELETE FROM outbox WHERE published_at < now() - $1::interval",
                self.published_retention,
            )
            inbox = await conn.execute(
                "DELETE FROM inbox WHERE processed_at < now() - $1::interval",
                self.inbox_retention,
            )
        counts = (int(outbox.split()[-1]), int(inbox.split()[-1]))
        if any(counts):
            log.info("outbox.purged", outbox_rows=counts[0], inbox_rows=counts[1])
        return counts

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            await self._ensure_listener()
            try:
                published = await self.run_once()
                if time.monotonic() - self._last_purge >= self.purge_interval:
                    await self.purge()
                    self._last_purge = time.monotonic()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Database outage or a bug: never let the loop die; rows stay due.
                failures += 1
                delay = min(30.0, self.poll_interval * 2**failures) * random.uniform(0.5, 1.0)
                log.warning(
                    "outbox.relay_failed",
                    error_type=type(exc).__name__,
                    error=str(exc),
                    retry_in=round(delay, 1),
                )
                await self._drop_listener()
                await self._sleep(delay)
                continue
            if published >= self.batch_size:
                continue
            await self._sleep(self.poll_interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wakeup.wait()
        self._wakeup.clear()

    def _on_notify(self, *_: object) -> None:
        self._wakeup.set()

    def _on_listener_lost(self, *_: object) -> None:
        self._listen_conn = None

    async def _ensure_listener(self) -> None:
        if self._listen_conn is not None and not self._listen_conn.is_closed():
            return
        await self._drop_listener()
        try:
            conn = await self.pool.acquire(timeout=5.0)
        except Exception as exc:
            log.debug("outbox.listen_unavailable", error_type=type(exc).__name__)
            return
        try:
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            conn.add_termination_listener(self._on_listener_lost)
        except Exception as exc:
            log.debug("outbox.listen_unavailable", error_type=type(exc).__name__)
            await self._release(conn)
            return
        self._listen_conn = conn

    async def _drop_listener(self) -> None:
        conn, self._listen_conn = self._listen_conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            conn.remove_termination_listener(self._on_listener_lost)
            if not conn.is_closed():
                await conn.remove_listener(NOTIFY_CHANNEL, self._on_notify)
        await self._release(conn)

    async def _release(self, conn: Any) -> None:
        with contextlib.suppress(Exception):
            await self.pool.release(conn, timeout=5.0)
