"""The sender worker: background loops in the service that deliver due e-mail jobs."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from asyncpg.pool import PoolConnectionProxy

from bibmon_notifier.repository import NOTIFY_CHANNEL
from bibmon_notifier.services import Delivery

log = structlog.get_logger(__name__)


class SenderWorker:
    """`concurrency` loops deliver due jobs; NOTIFY wakes them, a short poll backs it up."""

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.settings = delivery.settings
        self._wake = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: PoolConnectionProxy | None = None
        self._listen_lock = asyncio.Lock()

    async def start(self) -> None:
        """Start the delivery loops, the NOTIFY listener and the retention loop."""
        self._stopping = False
        self._stopped.clear()
        with contextlib.suppress(Exception):
            await self._listen()
        for i in range(self.settings.sender_concurrency):
            self._tasks.append(asyncio.create_task(self._run(), name=f"notifier-sender-{i}"))
        self._tasks.append(asyncio.create_task(self._retention(), name="notifier-retention"))
        log.info("sender.started", concurrency=self.settings.sender_concurrency)

    async def stop(self) -> None:
        """Let e-mails being sent finish (bounded by the SMTP timeout), then stop."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        if self._tasks:
            _, pending = await asyncio.wait(
                self._tasks, timeout=self.settings.smtp_timeout_seconds + 5
            )
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._unlisten()
        log.info("sender.stopped")

    def wake(self) -> None:
        """Look for due jobs now."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                delivered = await self.delivery.deliver_next()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Database trouble: back off and try again; the job stays pending.
                log.warning("sender.error", error_type=type(exc).__name__, exc_info=exc)
                delivered = False
                await asyncio.sleep(self.settings.poll_interval_seconds)
            if not delivered and not self._stopping:
                await self._sleep()

    async def _sleep(self) -> None:
        if self._listener is None or self._listener.is_closed():
            async with self._listen_lock:
                if self._listener is None or self._listener.is_closed():
                    with contextlib.suppress(Exception):
                        await self._listen()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.poll_interval_seconds):
                await self._wake.wait()
        self._wake.clear()

    async def _retention(self) -> None:
        while not self._stopping:
            try:
                await self.delivery.purge()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("retention.error", error_type=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.retention_interval_seconds):
                    await self._stopped.wait()

    async def _listen(self) -> None:
        await self._unlisten()
        conn = await self.delivery.pool.acquire()
        try:
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
        except Exception:
            await self.delivery.pool.release(conn)
            raise
        self._listener = conn

    async def _unlisten(self) -> None:
        conn, self._listener = self._listener, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.remove_listener(NOTIFY_CHANNEL, self._on_notify)
        with contextlib.suppress(Exception):
            await self.delivery.pool.release(conn)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()
