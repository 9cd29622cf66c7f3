"""Background loops: one periodic-loop helper and one NOTIFY wake-up helper for every service.

`run_periodically` runs a tick now and then every `interval` seconds until stopped (or
cancelled); a failing tick is logged and tried again, never ends the loop. `Wakeup` holds a
pooled connection that LISTENs on a channel, so a NOTIFY (or `set()`) ends the wait at once;
the poll stays the guarantee, because a notification sent while nobody listens is lost.
A listener whose connection dies is noticed (termination listener) and re-acquired before
the next wait. `advisory_xact_lock` lets one replica of several do a job that should run
once at a time (docs/reliability.md, "Several replicas").
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import structlog

log = structlog.get_logger(__name__)

__all__ = ["Wakeup", "advisory_xact_lock", "lock_key", "run_periodically"]

T = TypeVar("T")


class Wakeup:
    """`LISTEN channel` on a pooled connection; a NOTIFY or `set()` ends `wait()` early.

    Several loops may share one: `set()` (or a notification) wakes every waiter. Listening is
    best effort: when the pool or database is unavailable the loops simply poll.
    """

    def __init__(self, pool: asyncpg.Pool, channel: str, *, acquire_timeout: float = 5.0) -> None:
        self.pool = pool
        self.channel = channel
        self.acquire_timeout = acquire_timeout
        self._event = asyncio.Event()
        # A pooled connection held for LISTEN (a PoolConnectionProxy).
        self._conn: Any = None
        self._lock = asyncio.Lock()

    @property
    def listening(self) -> bool:
        """True while a live connection listens on the channel.

        A connection the server closed (a PostgreSQL restart) may already be back in the
        pool, and asyncpg then refuses every call on its proxy, `is_closed()` too.
        """
        if self._conn is None:
            return False
        try:
            return not self._conn.is_closed()
        except asyncpg.InterfaceError:
            return False

    def set(self) -> None:
        """Wake every waiter now."""
        self._event.set()

    async def wait(self, seconds: float) -> None:
        """Wait until woken or `seconds` pass (listening again first if the listener was lost)."""
        await self.ensure()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        self._event.clear()

    async def ensure(self) -> None:
        """Listen if not listening (a lost connection is replaced); never raises."""
        if self.listening:
            return
        async with self._lock:
            if self.listening:
                return
            await self._drop()
            try:
                conn = await self.pool.acquire(timeout=self.acquire_timeout)
            except Exception as exc:
                log.debug(
                    "wakeup.listen_unavailable", channel=self.channel, error_type=type(exc).__name__
                )
                return
            try:
                await conn.add_listener(self.channel, self._on_notify)
                conn.add_termination_listener(self._on_lost)
            except Exception as exc:
                log.debug(
                    "wakeup.listen_unavailable", channel=self.channel, error_type=type(exc).__name__
                )
                await self._release(conn)
                return
            self._conn = conn

    async def close(self) -> None:
        """Stop listening and give the connection back to the pool."""
        async with self._lock:
            await self._drop()

    async def reset(self) -> None:
        """Drop the listener (after a database failure); the next wait listens again."""
        await self.close()

    def _on_notify(self, *_: object) -> None:
        self._event.set()

    def _on_lost(self, *_: object) -> None:
        # The connection died (database restart, terminated backend): listen again later.
        self._conn = None
        self._event.set()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            conn.remove_termination_listener(self._on_lost)
            if not conn.is_closed():
                await conn.remove_listener(self.channel, self._on_notify)
        await self._release(conn)

    async def _release(self, conn: Any) -> None:
        with contextlib.suppress(Exception):
            await self.pool.release(conn, timeout=5.0)


async def run_periodically(
    tick: Callable[[], Awaitable[T]],
    *,
    interval: float,
    failure_event: str,
    stopped: asyncio.Event | None = None,
    wakeup: Wakeup | None = None,
    again: Callable[[T], bool] | None = None,
    max_backoff: float | None = None,
    log_error_text: bool = True,
) -> None:
    """Run `tick` now and every `interval` seconds until `stopped` is set or the task is cancelled.

    - `wakeup`: a NOTIFY (or `wakeup.set()`) ends the wait early.
    - `again(result)`: true when the tick left work behind (a full batch): tick again at once.
    - A tick that raises is logged as `failure_event` (warning, with its type; with its text
      and traceback unless `log_error_text` is false) and tried again after `interval`, or,
      with `max_backoff`, after `interval * 2**failures` up to `max_backoff`, jittered.
      The listener is dropped then too, so the next wait listens on a fresh connection.
    """
    stopped = stopped if stopped is not None else asyncio.Event()
    failures = 0
    while not stopped.is_set():
        if wakeup is not None:
            # Listen before the tick, so a NOTIFY committed during it is not missed.
            await wakeup.ensure()
        try:
            result = await tick()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures += 1
            delay = interval
            if max_backoff is not None:
                delay = min(max_backoff, interval * 2**failures) * random.uniform(0.5, 1.0)
            details: dict[str, Any] = {
                "error_type": type(exc).__name__,
                "retry_in": round(delay, 1),
            }
            if log_error_text:
                details["error"] = str(exc)
                details["exc_info"] = exc
            log.warning(failure_event, **details)
            if wakeup is not None:
                await wakeup.reset()
            await _pause(delay, stopped, wakeup)
            continue
        failures = 0
        if again is not None and again(result):
            continue
        await _pause(interval, stopped, wakeup)


async def _pause(seconds: float, stopped: asyncio.Event, wakeup: Wakeup | None) -> None:
    if stopped.is_set():
        return
    if wakeup is not None:
        # stop() of an owner sets the wake-up too, so this ends at once on shutdown.
        await wakeup.wait(seconds)
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stopped.wait()


def lock_key(name: str) -> int:
    """A stable 32-bit advisory-lock key for a job name (the same in every replica)."""
    return zlib.crc32(f"bibmon:{name}".encode())


async def advisory_xact_lock(conn: Any, name: str) -> bool:
    """Try to take the transaction-scoped advisory lock of job `name`; False when another holds it.

    For jobs that should run in one replica at a time (a purge): the others skip the tick.
    Must run inside the caller's transaction; the lock is released at commit or rollback.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("advisory_xact_lock() must run inside a transaction")
    return bool(await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", lock_key(name)))
