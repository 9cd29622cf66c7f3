"""Transactional outbox: messages are rows written with the state change, relayed later.

The relay loop is the guarantee; NOTIFY only shortens the wait (a notification sent
while no one listens is lost, so a poll backs it up). Rows are published at least
once, in windows of up to `batch_size` messages in flight: a crash between a confirm and
the window's marking re-publishes, the inbox absorbs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from bibmon_common import metrics
from bibmon_common.background import Wakeup, run_periodically
from bibmon_common.db import background_connection
from bibmon_common.events import EVENTS_EXCHANGE, EXPORTS_EXCHANGE, Message, to_envelope
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
    "OUTBOX_DUE_INDEX_DDL",
    "OUTBOX_DUE_INDEX_DOWNGRADE",
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
CREATE INDEX IF NOT EXISTS outbox_due_idx ON outbox (created_at) WHERE published_at IS NULL;
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

# The relay's window in the order of the claim (created_at), so a claim reads its 100
# rows and no more however long the backlog. It replaced an index on (available_at,
# created_at) with which PostgreSQL read and sorted every unpublished row for each
# window: 4.8 ms against 0.1 ms per claim with 10,000 rows waiting (bench/pipeline.py).
# Every service's migration 0060 makes the same change to an existing database.
OUTBOX_DUE_INDEX_DDL = """
CREATE INDEX IF NOT EXISTS outbox_due_idx ON outbox (created_at) WHERE published_at IS NULL;
DROP INDEX IF EXISTS outbox_unpublished_idx;
"""
OUTBOX_DUE_INDEX_DOWNGRADE = """
CREATE INDEX IF NOT EXISTS outbox_unpublished_idx
    ON outbox (available_at, created_at) WHERE published_at IS NULL;
DROP INDEX IF EXISTS outbox_due_idx;
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
UPDATE outbox AS o
SET attempts = o.attempts + 1, last_error = f.error,
    available_at = now() + make_interval(secs => f.delay)
FROM unnest($1::uuid[], $2::text[], $3::float8[]) AS f(id, error, delay)
WHERE o.id = f.id
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

# An event (or an export: a KB system may bind its queue later) no queue is bound for
# yet stays due, with back-off, for this long: after an empty broker is rebuilt the
# consumers re-declare their queues and it flows again. Only then is it given up (logged,
# and the row kept with its error until the purge). Commands always retry: they must
# reach their service.
UNROUTABLE_EVENT_RETENTION = timedelta(hours=24)
_GIVE_UP_EXCHANGES = frozenset({EVENTS_EXCHANGE, EXPORTS_EXCHANGE})
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


@dataclass(frozen=True)
class _Outcome:
    """What became of one row of a window: how to mark it."""

    kind: str  # published | dropped | given_up | failed | unavailable
    error: str | None = None
    delay: float = 0.0


_PUBLISHED = _Outcome("published")
_UNAVAILABLE = _Outcome("unavailable")


class OutboxRelay:
    """Background task publishing outbox rows with confirms; safe to run in several replicas.

    It runs `windows` loops side by side (default 2), each a window at a time, as
    replicas would. Each round claims up to `batch_size` due rows (`FOR UPDATE SKIP
    LOCKED`, so loops and replicas never wait for each other's rows), publishes them all
    at once — the window: up to `batch_size` messages in flight on the confirming
    channel —, gathers their confirms, and marks the outcome in one statement per kind in
    the claiming transaction. A row is marked published only after its own confirm; a
    crash before the commit re-publishes the whole window (duplicates, absorbed by the
    inbox).
    """

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
        windows: int = 2,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if windows < 1:
            raise ValueError("windows must be at least 1")
        self.pool = pool
        self.broker = broker
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.publish_timeout = publish_timeout
        self.purge_interval = purge_interval
        self.published_retention = published_retention
        self.inbox_retention = inbox_retention
        self.unroutable_retention = unroutable_retention
        self._wakeup = Wakeup(pool, NOTIFY_CHANNEL)
        self._stopping = asyncio.Event()
        # Windows in flight at once: each loop claims, publishes and marks its own window
        # (SKIP LOCKED keeps them apart, as between replicas), so one window's database
        # round trips overlap another's confirms instead of stalling the relay.
        self.windows = windows
        self._tasks: list[asyncio.Task[None]] = []
        self._last_purge = float("-inf")

    async def start(self) -> None:
        """Start the relay loop in the background."""
        if not self._tasks:
            self._stopping.clear()
            self._tasks = [
                asyncio.create_task(self._run(purges=loop == 0), name=f"outbox-relay-{loop}")
                for loop in range(self.windows)
            ]

    async def stop(self) -> None:
        """Finish the current window and stop."""
        self._stopping.set()
        self._wakeup.set()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._wakeup.close()

    def wake(self) -> None:
        """Look for work now instead of at the next poll."""
        self._wakeup.set()

    async def run_once(self) -> int:
        """Publish one window of due rows; return how many were published."""
        if not self.broker.is_connected:
            return 0
        async with background_connection(self.pool) as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, self.batch_size)
            if not rows:
                return 0
            outcomes = await self._publish_window(rows)
            published = await self._mark(conn, rows, outcomes)
        metrics.OUTBOX_PUBLISHED.inc(published)
        if published:
            log.debug("outbox.published", count=published)
        return published

    async def _mark(self, conn: Any, rows: list[asyncpg.Record], outcomes: list[_Outcome]) -> int:
        """Record a window's outcomes: one statement per kind (rows left unavailable stay due)."""
        by_kind: dict[str, list[UUID]] = {}
        failed: list[tuple[UUID, str, float]] = []
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome.kind == "failed":
                failed.append((row["id"], outcome.error or "", outcome.delay))
            else:
                by_kind.setdefault(outcome.kind, []).append(row["id"])
        done = by_kind.get("published", [])
        if done:
            await conn.execute(_MARK_PUBLISHED, done, None)
        if dropped := by_kind.get("dropped"):
            await conn.execute(_MARK_PUBLISHED, dropped, "expired before publish")
        if given_up := by_kind.get("given_up"):
            await conn.execute(_MARK_PUBLISHED, given_up, UNROUTABLE_ERROR + " (given up)")
        if failed:
            ids, errors, delays = zip(*failed, strict=True)
            await conn.execute(_MARK_FAILED, list(ids), list(errors), list(delays))
        if unavailable := by_kind.get("unavailable"):
            # Not confirmed (broker down, channel closed, no confirm in time): left as it
            # was, due again at the next round; the broker may hold a copy (a duplicate).
            log.warning("outbox.window_unconfirmed", count=len(unavailable), published=len(done))
        return len(done)

    async def _publish_window(self, rows: list[asyncpg.Record]) -> list[_Outcome]:
        """Every row of the window in flight at once, each waiting for its own confirm,
        within one deadline for the window (one timer, not one per message): a row not
        confirmed by then stays due."""
        tasks = [asyncio.create_task(self._publish_row(row)) for row in rows]
        try:
            _, late = await asyncio.wait(tasks, timeout=self.publish_timeout)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
            metrics.OUTBOX_PUBLISH_FAILURES.labels("broker_unavailable").inc(len(late))
            log.debug("outbox.confirm_timeout", count=len(late))
        # An unexpected error (a bug) ends the round as gather() would: rolled back,
        # the rows stay due, the loop logs it and backs off.
        return [_UNAVAILABLE if task.cancelled() else task.result() for task in tasks]

    async def _publish_row(self, row: asyncpg.Record) -> _Outcome:
        headers: dict[str, Any] = json.loads(row["headers"]) if row["headers"] else {}
        expiration: timedelta | None = None
        expires_at = expires_at_from_headers(headers)
        if expires_at is not None:
            expiration = expires_at - datetime.now(UTC)
            if expiration <= timedelta(0):
                log.warning("outbox.expired", message_id=str(row["id"]), message_type=row["type"])
                return _Outcome("dropped")
        try:
            await self.broker.publish(
                row["exchange"],
                row["routing_key"],
                row["payload"].encode(),
                message_id=str(row["id"]),
                headers=headers,
                expiration=expiration,
                timeout=None,  # the window's deadline (_publish_window)
                message_type=row["type"],
                current_trace=False,
            )
        except BrokerUnavailable as exc:
            metrics.OUTBOX_PUBLISH_FAILURES.labels("broker_unavailable").inc()
            log.debug("outbox.broker_unavailable", message_id=str(row["id"]), error=str(exc))
            return _UNAVAILABLE
        except PublishFailed as exc:
            metrics.OUTBOX_PUBLISH_FAILURES.labels(
                "unroutable" if isinstance(exc, Unroutable) else "refused"
            ).inc()
            attempts = row["attempts"] + 1
            if isinstance(exc, Unroutable) and row["exchange"] in _GIVE_UP_EXCHANGES:
                return self._unroutable_event(row, attempts)
            delay = _backoff(attempts)
            log.warning(
                "outbox.publish_failed",
                message_id=str(row["id"]),
                message_type=row["type"],
                attempts=attempts,
                retry_in=round(delay, 1),
                error=str(exc),
            )
            return _Outcome("failed", str(exc)[:1000], delay)
        return _PUBLISHED

    def _unroutable_event(self, row: asyncpg.Record, attempts: int) -> _Outcome:
        waited = datetime.now(UTC) - row["created_at"]
        if waited >= self.unroutable_retention:
            log.error(
                "outbox.unroutable_event_given_up",
                message_id=str(row["id"]),
                message_type=row["type"],
                attempts=attempts,
                waited_hours=round(waited.total_seconds() / 3600, 1),
            )
            return _Outcome("given_up")
        delay = _backoff(attempts)
        if attempts & (attempts - 1) == 0:  # 1, 2, 4, 8 …: visible, not one line a minute
            log.warning(
                "outbox.unroutable_event",
                message_id=str(row["id"]),
                message_type=row["type"],
                attempts=attempts,
                retry_in=round(delay, 1),
            )
        return _Outcome("failed", UNROUTABLE_ERROR, delay)

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

    async def _round(self) -> int:
        published = await self.run_once()
        if time.monotonic() - self._last_purge >= self.purge_interval:
            await self.purge()
            self._last_purge = time.monotonic()
        return published

    async def _run(self, *, purges: bool) -> None:
        # A database outage or a bug never ends the loop: rows stay due, it backs off.
        # One loop of the relay purges; the others only publish.
        await run_periodically(
            self._round if purges else self.run_once,
            interval=self.poll_interval,
            failure_event="outbox.relay_failed",
            stopped=self._stopping,
            wakeup=self._wakeup,
            again=lambda published: published >= self.batch_size,
            max_backoff=30.0,
        )
