"""Idempotent consumer: inbox row and handler in one transaction, then ack.

Delivery is at-least-once, so the same message id can arrive twice (outbox re-publish,
redelivery after a lost ack); the inbox primary key makes the effect happen once.
Handler failures are not requeued in place (a quorum queue would redeliver at once):
the message is acked and re-published to a delay queue with an attempt header, and
parked after the last one. The consumer never nacks with requeue: what the broker counts
towards `x-delivery-limit` differs between versions (docs/reliability.md), so attempts
are counted here and the limit is only a backstop.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import aiormq
import asyncpg
import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustChannel
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from pydantic import ValidationError

import bibmon_common.contracts  # noqa: F401  (registers every contract for parse_message)
from bibmon_common import metrics
from bibmon_common.db import background_connection, background_limit
from bibmon_common.errors import DATABASE_LOST
from bibmon_common.events import (
    CloudEvent,
    Message,
    UnknownMessageType,
    parse_envelope,
    parse_message,
    registry,
)
from bibmon_common.messaging.acks import AckCollector
from bibmon_common.messaging.broker import Broker, PublishFailed
from bibmon_common.messaging.handlers import Route, bind
from bibmon_common.messaging.outbox import expires_at_from_headers
from bibmon_common.messaging.permissions import sender_allowed
from bibmon_common.messaging.topology import (
    DEFAULT_EXCHANGE,
    DLX,
    EVENTS_EXCHANGE,
    consumer_queue_specs,
    declare_consumer_queues,
    declare_topology,
    retry_queue_name,
)
from bibmon_common.telemetry import extract_trace_context

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)

__all__ = ["ATTEMPT_HEADER", "PARKING_REASON_HEADER", "Consumer", "Handler"]

Handler = Callable[[asyncpg.Connection, Message, CloudEvent], Awaitable[None]]

ATTEMPT_HEADER = "x-bibmon-attempt"
PARKING_REASON_HEADER = "x-bibmon-parking-reason"
ERROR_HEADER = "x-bibmon-error"

# A message whose transaction takes less than this on average counts as quick: what
# waits goes into one batch instead of being spread over the free transactions. The time
# is wall-clock, so it includes waiting for a busy CPU: at 5 ms a consumer of plain
# INSERTs sharing two cores with PostgreSQL, RabbitMQ and a second consumer timed itself
# slow, spread its messages over small transactions (2 a commit) and so slowed down
# further. Handlers that wait on something outside (a web call, a lock) take far longer.
QUICK_MESSAGE_SECONDS = 0.025
QUICK_TRANSACTIONS = 2
# Unacknowledged messages RabbitMQ may hand this consumer (its window), in two sizes.
# Quick handlers take what waits in batches, so the window sets the batch size: at 64 a
# batch held about 14 messages instead of 4 and the pipeline bench gained a third
# (docs/operations.md, "The event pipeline"). Slow handlers keep 16: at 64 they recovered
# from a burst of connection drops in 58 s instead of 33 s
# (test_faults.py::test_twenty_connection_drops…): every drop hands the whole window out
# again, and the copies wait on each other's inbox rows. A consumer starts with the small
# window and widens it once its messages are timed as quick (narrowing it again when they
# turn slow; see `_adjust_window`).
DEFAULT_PREFETCH = 16
QUICK_PREFETCH = 64
# Narrow again only well above the quick limit, so a window does not flap at the border.
SLOW_MESSAGE_SECONDS = 2 * QUICK_MESSAGE_SECONDS
# How long stop() lets a window change in progress finish before cancelling it.
RESIZE_GRACE_SECONDS = 5.0

_INBOX_INSERT = """
INSERT INTO inbox (consumer, message_id, processed_at) VALUES ($1, $2, now())
ON CONFLICT DO NOTHING RETURNING 1
"""

_INBOX_INSERT_MANY = """
WITH inserted AS (
    INSERT INTO inbox (consumer, message_id, processed_at)
    SELECT $1, id, now() FROM unnest($2::uuid[]) AS id
    ON CONFLICT DO NOTHING RETURNING message_id
)
SELECT coalesce(array_agg(message_id), '{}') FROM inserted
"""


@dataclass
class _Work:
    """A message waiting for its transaction: what to run, in which context, and the result."""

    envelope: CloudEvent
    parsed: Message
    handler: Handler
    context: contextvars.Context
    # True: applied; False: a duplicate; None: run it alone.
    done: asyncio.Future[bool | None]


async def _call(handler: Handler, conn: asyncpg.Connection, work: _Work) -> None:
    await handler(conn, work.parsed, work.envelope)


def _settle(work: _Work, result: bool | None) -> None:
    if not work.done.done():  # its task may have been cancelled meanwhile
        work.done.set_result(result)


# Failures of the infrastructure, not of the message: retried without using up attempts,
# so a database outage never parks messages (OSError includes ConnectionError and
# TimeoutError).
_TRANSIENT: tuple[type[BaseException], ...] = DATABASE_LOST


class Consumer:
    """Consume one queue: bind the handlers' types, process each message exactly once."""

    def __init__(
        self,
        broker: Broker,
        pool: asyncpg.Pool,
        *,
        queue: str,
        exchange: str,
        handlers: Mapping[str, Handler],
        retry_delays: Sequence[float] = (5, 60, 600),
        prefetch: int | None = None,
        quick_prefetch: int | None = None,
        max_transactions: int | None = None,
    ) -> None:
        for type_ in handlers:
            cls = registry.get(type_)
            if cls is None:
                raise ValueError(f"no contract registered for {type_!r}")
            if cls.exchange != exchange:
                raise ValueError(f"{type_!r} is published on {cls.exchange!r}, not {exchange!r}")
        if not retry_delays:
            raise ValueError("retry_delays needs at least one delay")
        self.broker = broker
        self.pool = pool
        self.queue_name = queue
        self._span_name = f"{queue} process"
        self.exchange = exchange
        self.handlers = dict(handlers)
        self.retry_delays = tuple(retry_delays)
        # The window to start with and for slow messages, and the one once messages are
        # timed as quick. A window given by hand stays fixed unless `quick_prefetch` is
        # given too.
        if quick_prefetch is None:
            quick_prefetch = QUICK_PREFETCH if prefetch is None else prefetch
        self.prefetch = DEFAULT_PREFETCH if prefetch is None else prefetch
        self.quick_prefetch = max(self.prefetch, quick_prefetch)
        self._window = self.prefetch  # the window of the consumer registered now
        self._resizing: asyncio.Task[None] | None = None
        self._stopping = False
        # Transactions open at once (default: as many connections as background work may
        # hold). A message that finds the consumer idle runs alone at once; messages that
        # arrive while a transaction is in progress are collected until the end of the
        # event loop's turn and spread over the free transactions, in batches.
        self.max_transactions = max_transactions
        self._pending: list[_Work] = []
        self._start_scheduled = False
        # Seconds a message's transaction took, averaged (None until one was timed).
        self._per_message: float | None = None
        self._batches: set[asyncio.Task[None]] = set()
        self._active = 0  # transactions in progress, alone or batched
        self._channel: AbstractRobustChannel | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._acks = AckCollector()
        # Queues that exist with other arguments than ours (see start()).
        self.argument_drift: list[str] = []

    @classmethod
    def of_service(
        cls,
        ctx: Any,
        *,
        queue: str,
        routes: Iterable[Route[Any, Any]],
        exchange: str = EVENTS_EXCHANGE,
        retry_delays: Sequence[float] = (5, 60, 600),
        prefetch: int | None = None,
        quick_prefetch: int | None = None,
    ) -> Consumer:
        """A running service's consumer of `queue`: its broker and pool, `routes` bound to
        its dependencies object (`ctx` is the `ServiceContext`)."""
        return cls(
            ctx.broker,
            ctx.pool,
            queue=queue,
            exchange=exchange,
            handlers=bind(ctx.deps, routes),
            retry_delays=retry_delays,
            prefetch=prefetch,
            quick_prefetch=quick_prefetch,
        )

    @property
    def window(self) -> int:
        """The prefetch window of the consumer registered now (`prefetch` or
        `quick_prefetch`)."""
        return self._window

    @property
    def in_flight(self) -> int:
        """Messages received and not yet settled (at most the window, per channel)."""
        return len(self._in_flight)

    @property
    def is_consuming(self) -> bool:
        """True while registered as a consumer on an open channel."""
        return (
            self._consumer_tag is not None
            and self._channel is not None
            and not self._channel.is_closed
        )

    async def start(self) -> None:
        """Declare the queues, bind the handlers' routing keys and start consuming."""
        drift = await self._queues_with_other_arguments()
        self.argument_drift = sorted(drift)
        channel = await self.broker.channel(prefetch=self.prefetch)
        self._channel = channel
        self._window = self.prefetch
        self._stopping = False
        own_exchanges = self.broker.declares_exchanges
        await declare_topology(channel, passive=not own_exchanges)
        queue = await declare_consumer_queues(
            channel,
            self.queue_name,
            self.retry_delays,
            passive=drift,
            bind_parking=own_exchanges,
        )
        for type_ in self.handlers:
            await queue.bind(self.exchange, routing_key=type_)
        self._queue = queue
        self._consumer_tag = await queue.consume(self._on_message)
        log.info("consumer.started", queue=self.queue_name, types=sorted(self.handlers))

    async def _queues_with_other_arguments(self) -> set[str]:
        """Declare each queue on a scratch channel; name those RabbitMQ refuses.

        A queue declared earlier with other arguments (a version that changed them) makes
        RabbitMQ close the channel with PRECONDITION_FAILED. Such a queue is used as it is,
        with an error at every start, rather than leaving the service without consumers:
        its old arguments were ours once, and attempts are counted here, not by the
        queue. An operator moves its messages and deletes it (docs/operations.md).
        """
        drift: set[str] = set()
        for name, arguments in consumer_queue_specs(self.queue_name, self.retry_delays):
            try:
                async with self.broker.scratch_channel() as scratch:
                    await scratch.declare_queue(name, durable=True, arguments=arguments)
            except aiormq.exceptions.ChannelPreconditionFailed as exc:
                log.error(
                    "queue.arguments_differ",
                    queue=name,
                    detail=str(exc),
                    action="used as it is; move its messages and delete it to apply ours",
                )
                drift.add(name)
        return drift

    async def stop(self, grace_period: float = 30.0) -> None:
        """Stop taking messages, wait for those in flight, close the channel."""
        self._stopping = True  # no window change starts now
        resizing = self._resizing
        if resizing is not None:
            # Let a change in progress finish: aiormq closes a channel whose RPC is
            # cancelled, and with it go the acks not yet written (their messages would be
            # delivered again). Its two RPCs are short; a broker that does not answer
            # within the bound gets the cancel after all.
            _, pending = await asyncio.wait({resizing}, timeout=RESIZE_GRACE_SECONDS)
            if pending:
                resizing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await resizing
        queue, tag = self._queue, self._consumer_tag
        self._consumer_tag = None
        if queue is not None and tag is not None:
            with contextlib.suppress(Exception):
                await queue.cancel(tag)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_period):
                await self._idle.wait()
        if self._in_flight:
            log.warning(
                "consumer.stop_timeout", queue=self.queue_name, in_flight=len(self._in_flight)
            )
        await self._acks.drain()
        channel, self._channel = self._channel, None
        self._queue = None
        if channel is not None:
            with contextlib.suppress(Exception):
                await self.broker.release_channel(channel)
        log.info("consumer.stopped", queue=self.queue_name)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._in_flight.add(task)
        self._idle.clear()
        try:
            await self._process(message)
        except Exception as exc:
            # Nothing may kill the consumer. Count it as an attempt like a handler failure
            # (a requeue would loop for ever on RabbitMQ 4.3, which does not count it).
            log.exception("consumer.unexpected_error", queue=self.queue_name)
            try:
                await self._retry(message, dict(message.headers or {}), exc)
            except Exception:
                # Dead-letters to parking through the queue's DLX: never a loop.
                with contextlib.suppress(Exception):
                    await message.reject(requeue=False)
                    self._acks.settled(message)
        finally:
            self._in_flight.discard(task)
            if not self._in_flight:
                self._idle.set()

    async def _process(self, message: AbstractIncomingMessage) -> None:
        headers: dict[str, Any] = dict(message.headers or {})
        parent = extract_trace_context(headers)
        span_context = trace.get_current_span(parent).get_span_context()
        # Set and reset by token: structlog's bound_contextvars() reads the whole context
        # first (a twentieth of the consumer's CPU per message in bench/pipeline.py).
        log_fields = structlog.contextvars.bind_contextvars(
            queue=self.queue_name,
            message_id=message.message_id,
            message_type=message.type,
            trace_id=format(span_context.trace_id, "032x") if span_context.is_valid else None,
        )
        # What start_as_current_span() does, without its two context-manager layers and
        # the second context switch (the span's context is attached once, on the parent).
        span = tracer.start_span(self._span_name, context=parent, kind=trace.SpanKind.CONSUMER)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            await self._handle(message, headers)
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            span.end()
            otel_context.detach(token)
            structlog.contextvars.reset_contextvars(**log_fields)

    async def _handle(self, message: AbstractIncomingMessage, headers: dict[str, Any]) -> None:
        try:
            envelope = parse_envelope(message.body)
            parsed = parse_message(envelope)
        except UnknownMessageType:
            await self._park(message, headers, "unknown_type")
            return
        except ValidationError:
            await self._park(message, headers, "invalid")
            return
        if not sender_allowed(envelope.type, message.user_id, own_user=self.broker.user):
            # user_id is checked by RabbitMQ; anything else here is a forgery (or a replay
            # by hand without a user_id), so it waits for an operator, never runs.
            log.warning("message.forbidden_sender", sender=message.user_id)
            await self._park(message, headers, "forbidden_sender")
            return
        handler = self.handlers.get(envelope.type)
        if handler is None:
            # Routed here by a binding this version no longer handles.
            await self._park(message, headers, "no_handler")
            return
        expires_at = expires_at_from_headers(headers)
        if expires_at is not None and expires_at <= datetime.now(UTC):
            log.warning("message.expired")
            await self._ack(message)
            metrics.MESSAGES_CONSUMED.labels(self.queue_name, "expired").inc()
            return

        try:
            first = await self._apply(envelope, parsed, handler)
        except Exception as exc:
            await self._retry(message, headers, exc)
            return
        if first:
            # Counted (bibmon_messages_consumed) and traced; a line per message only when
            # asked for (DEBUG): at a thousand messages a second it was a tenth of the
            # consumer's CPU.
            log.debug("message.processed")
        else:
            log.info("message.duplicate_skipped")
        await self._ack(message)
        outcome = "processed" if first else "duplicate"
        metrics.MESSAGES_CONSUMED.labels(self.queue_name, outcome).inc()

    async def _apply(self, envelope: CloudEvent, parsed: Message, handler: Handler) -> bool:
        """Inbox row and handler in one transaction; True when new, False for a duplicate.

        A message that finds the consumer idle runs alone, at once. Messages that arrive
        while a transaction is in progress are collected until the end of the event
        loop's turn (a burst of deliveries arrives in one) and then spread over the free
        transactions (up to the limit), each batch sharing one transaction: one inbox
        statement and one commit for all of them, each handler run in its own message's
        context (trace, log fields). Under load this saves four round trips and a commit
        per message (bench/pipeline.py). When anything in a batch fails, it
        is rolled back and each of its messages runs alone in its own transaction, exactly
        as if it had come alone, so a failure is retried, counted and parked per message.
        """
        if self._pending or self._active:
            loop = asyncio.get_running_loop()
            work = _Work(
                envelope, parsed, handler, contextvars.copy_context(), loop.create_future()
            )
            self._pending.append(work)
            self._schedule_batches()
            together = await work.done
            if together is not None:
                return together
        self._active += 1
        try:
            return await self._apply_alone(envelope, parsed, handler)
        finally:
            self._active -= 1
            self._schedule_batches()

    def _limit(self) -> int:
        return self.max_transactions or background_limit(self.pool)

    async def _apply_alone(self, envelope: CloudEvent, parsed: Message, handler: Handler) -> bool:
        started = time.perf_counter()
        async with background_connection(self.pool) as conn, conn.transaction():
            first = await conn.fetchval(_INBOX_INSERT, self.queue_name, envelope.id)
            if first is None:
                return False
            await handler(cast(asyncpg.Connection, conn), parsed, envelope)
        self._timed(time.perf_counter() - started, 1)
        return True

    def _timed(self, seconds: float, messages: int) -> None:
        """Average the time per message (the batch size choice in `_start_batches`)."""
        per_message = seconds / messages
        average = self._per_message
        self._per_message = per_message if average is None else 0.8 * average + 0.2 * per_message
        self._adjust_window(self._per_message)

    def _adjust_window(self, per_message: float) -> None:
        """Widen the window for quick messages, narrow it for slow ones (in the background)."""
        if per_message < QUICK_MESSAGE_SECONDS:
            wanted = self.quick_prefetch
        elif per_message > SLOW_MESSAGE_SECONDS:
            wanted = self.prefetch
        else:
            return
        if (
            wanted == self._window
            or self._resizing is not None
            or self._consumer_tag is None
            or self._stopping
        ):
            return
        self._resizing = asyncio.create_task(
            self._resize_window(wanted), name=f"{self.queue_name} window"
        )
        self._resizing.add_done_callback(self._resized)

    def _resized(self, task: asyncio.Task[None]) -> None:
        if self._resizing is task:
            self._resizing = None

    async def _resize_window(self, size: int) -> None:
        """Register a consumer with the new window, then cancel the old one.

        RabbitMQ's prefetch (`basic.qos`, per consumer) applies to consumers registered
        after it, so the window changes by registering anew: first the new consumer, then
        the old one cancelled, so the queue is never without one. Messages the old one
        received stay on the channel, are handled as any other and acked by their tag;
        RabbitMQ sends none for a tag after its `basic.cancel-ok`. aio-pika restores the
        last window and the new consumer after a reconnect, and never the cancelled one.
        A failure leaves the window as it is (logged); the next timing tries again.
        """
        queue, channel, old = self._queue, self._channel, self._consumer_tag
        if queue is None or channel is None or old is None or channel.is_closed:
            return
        try:
            await channel.set_qos(prefetch_count=size)
            new = await queue.consume(self._on_message)
        except Exception as exc:
            log.warning("consumer.window_unchanged", queue=self.queue_name, error=repr(exc))
            return
        self._consumer_tag = new
        self._window = size
        try:
            await queue.cancel(old)
        except Exception as exc:
            # Not restored after a reconnect either way (aio-pika forgets it first).
            log.warning("consumer.cancel_failed", queue=self.queue_name, error=repr(exc))
        log.info("consumer.window", queue=self.queue_name, prefetch=size)

    def _schedule_batches(self) -> None:
        """Start batches at the end of this turn of the event loop, once for all the
        messages that arrive in it."""
        if not self._start_scheduled:
            self._start_scheduled = True
            asyncio.get_running_loop().call_soon(self._start_batches)

    def _start_batches(self) -> None:
        self._start_scheduled = False
        quick = self._per_message is not None and self._per_message < QUICK_MESSAGE_SECONDS
        limit = min(QUICK_TRANSACTIONS, self._limit()) if quick else self._limit()
        free = limit - self._active
        while self._pending and free > 0:
            # Quick handlers: at most two transactions, everything that waits in one
            # batch (the fewest commits and round trips; what arrives meanwhile waits for
            # the next). Others, and before any was timed: spread over all the free
            # transactions, so handlers that wait on something (an HTTP call, a lock)
            # still run side by side.
            share = len(self._pending) if quick else -(-len(self._pending) // free)
            size = min(self._window, share)
            batch = self._pending[:size]
            del self._pending[:size]
            free -= 1
            if len(batch) == 1:
                _settle(batch[0], None)  # it runs alone, in its own task
                continue
            self._active += 1
            task = asyncio.create_task(self._run_batch(batch), name=f"{self.queue_name} batch")
            self._batches.add(task)
            task.add_done_callback(self._batch_done)

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._batches.discard(task)
        self._active -= 1
        self._schedule_batches()

    async def _run_batch(self, batch: list[_Work]) -> None:
        try:
            results = await self._apply_together(batch)
        except asyncio.CancelledError:
            for work in batch:
                work.done.cancel()  # so are the messages waiting on it
            raise
        except Exception as exc:
            log.info(
                "consumer.batch_split",
                queue=self.queue_name,
                size=len(batch),
                error_type=type(exc).__name__,
            )
            for work in batch:
                _settle(work, None)  # each runs alone now, in its own task
            return
        for work, first in zip(batch, results, strict=True):
            _settle(work, first)

    async def _apply_together(self, batch: list[_Work]) -> list[bool]:
        started = time.perf_counter()
        results = await self._apply_batch(batch)
        self._timed(time.perf_counter() - started, len(batch))
        return results

    async def _apply_batch(self, batch: list[_Work]) -> list[bool]:
        async with background_connection(self.pool) as conn, conn.transaction():
            new = set(
                await conn.fetchval(
                    _INBOX_INSERT_MANY, self.queue_name, [w.envelope.id for w in batch]
                )
                or ()
            )
            results: list[bool] = []
            for work in batch:
                first = work.envelope.id in new
                # The same id twice in one batch (a redelivery): the second is a duplicate.
                new.discard(work.envelope.id)
                if first:
                    await asyncio.create_task(
                        _call(work.handler, cast(asyncpg.Connection, conn), work),
                        context=work.context,
                    )
                results.append(first)
            return results

    async def _retry(
        self, message: AbstractIncomingMessage, headers: dict[str, Any], exc: Exception
    ) -> None:
        attempt = _int_header(headers.get(ATTEMPT_HEADER))
        transient = isinstance(exc, _TRANSIENT)
        if not transient and attempt >= len(self.retry_delays):
            log.error(
                "message.failed", attempt=attempt, error_type=type(exc).__name__, exc_info=exc
            )
            await self._park(message, headers, "handler_failed", error=type(exc).__name__)
            return
        if transient:
            delay, next_attempt = self.retry_delays[0], attempt
        else:
            delay, next_attempt = self.retry_delays[attempt], attempt + 1
        log.warning(
            "message.retry",
            attempt=attempt,
            retry_in=delay,
            transient=transient,
            error_type=type(exc).__name__,
            exc_info=exc,
        )
        metrics.MESSAGES_RETRIED.labels(self.queue_name, str(transient).lower()).inc()
        retry_headers = {**_plain(headers), ATTEMPT_HEADER: next_attempt}
        await self._republish(
            message, DEFAULT_EXCHANGE, retry_queue_name(self.queue_name, delay), retry_headers
        )

    async def _park(
        self,
        message: AbstractIncomingMessage,
        headers: dict[str, Any],
        reason: str,
        error: str | None = None,
    ) -> None:
        log.warning("message.parked", reason=reason, error_type=error)
        metrics.MESSAGES_PARKED.labels(self.queue_name, reason).inc()
        parked = {**_plain(headers), PARKING_REASON_HEADER: reason}
        if error is not None:
            parked[ERROR_HEADER] = error
        # Through the DLX like broker dead-lettering, so the parking binding is the only route.
        # Parked messages never expire: operators decide what to replay.
        await self._republish(message, DLX, self.queue_name, parked, keep_expiration=False)

    async def _republish(
        self,
        message: AbstractIncomingMessage,
        exchange: str,
        routing_key: str,
        headers: dict[str, Any],
        *,
        keep_expiration: bool = True,
    ) -> None:
        """Ack only once the copy is confirmed; until then keep the message and try again.

        Holding it (not nack-requeue) keeps the attempt count ours on every broker version.
        When its channel closes meanwhile, the broker redelivers it with the same header.
        """
        delay = 0.5
        while True:
            expiration = None
            expires_at = expires_at_from_headers(headers)
            if keep_expiration and expires_at is not None:
                expiration = max(expires_at - datetime.now(UTC), timedelta(0))
            try:
                await self.broker.publish(
                    exchange,
                    routing_key,
                    message.body,
                    message_id=message.message_id or "",
                    headers=headers,
                    expiration=expiration,
                    message_type=message.type,
                    content_type=message.content_type or "application/octet-stream",
                )
                break
            except PublishFailed as exc:
                log.warning(
                    "message.republish_failed",
                    routing_key=routing_key,
                    error=str(exc),
                    retry_in=delay,
                )
            if _delivery_channel_closed(message):
                log.warning("message.republish_abandoned", reason="channel closed")
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
        await self._ack(message)

    async def _ack(self, message: AbstractIncomingMessage) -> None:
        # Sent at the end of this turn, with the others of the turn (messaging/acks.py).
        self._acks.ack(message)


def _delivery_channel_closed(message: AbstractIncomingMessage) -> bool:
    try:
        return bool(message.channel.is_closed)
    except Exception:  # aio-pika raises ChannelInvalidStateError for a closed one
        return True


def _int_header(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _plain(headers: dict[str, Any]) -> dict[str, Any]:
    """Headers safe to send again: decoded strings, no broker bookkeeping."""
    out: dict[str, Any] = {}
    for key, value in headers.items():
        if key in (
            "x-death",
            "x-delivery-count",
            "x-first-death-exchange",
            "x-first-death-queue",
            "x-first-death-reason",
        ):
            continue
        out[key] = value.decode() if isinstance(value, bytes) else value
    return out
