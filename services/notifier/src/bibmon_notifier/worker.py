"""Background loops of the service: the sender (due e-mail jobs) and the reminder scheduler."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from bibmon_common.app import ServiceContext
from bibmon_notifier import survey_mail
from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.repository import NOTIFY_CHANNEL
from bibmon_notifier.services import Delivery

log = structlog.get_logger(__name__)


async def _every(
    seconds: float, stopped: asyncio.Event, tick: Callable[[], Awaitable[object]], error: str
) -> None:
    """Run `tick` now and every `seconds` until `stopped` is set.

    A tick that fails is logged as `error` (type only) and the next tick tries again.
    """
    while not stopped.is_set():
        try:
            await tick()
        except Exception as exc:
            log.warning(error, error_type=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await stopped.wait()


class SenderWorker:
    """`concurrency` loops deliver due jobs; NOTIFY wakes them, a short poll backs it up."""

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.settings = delivery.settings
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: PoolConnectionProxy | None = None
        self._listen_lock = asyncio.Lock()

    async def start(self) -> None:
        """Start the delivery loops, the NOTIFY listener and the retention loop."""
        self._stopped.clear()
        with contextlib.suppress(Exception):
            await self._listen()
        for i in range(self.settings.sender_concurrency):
            self._tasks.append(asyncio.create_task(self._run(), name=f"notifier-sender-{i}"))
        self._tasks.append(asyncio.create_task(self._retention(), name="notifier-retention"))
        log.info("sender.started", concurrency=self.settings.sender_concurrency)

    async def stop(self) -> None:
        """Let e-mails being sent finish (bounded by the SMTP timeout), then stop."""
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
        while not self._stopped.is_set():
            try:
                delivered = await self.delivery.deliver_next()
                if not delivered and not self._stopped.is_set():
                    await self._sleep()
            except Exception as exc:
                # Database trouble: back off and try again; the job stays pending. Nothing
                # may end this loop: a sender that stops sends nothing until a restart.
                log.warning("sender.error", error_type=type(exc).__name__, exc_info=exc)
                await asyncio.sleep(self.settings.poll_interval_seconds)

    def _listening(self) -> bool:
        """True while the LISTEN connection is open. One the server closed (a PostgreSQL
        restart) may already be back in the pool, and asyncpg refuses every call on it."""
        if self._listener is None:
            return False
        try:
            return not self._listener.is_closed()
        except asyncpg.InterfaceError:
            return False

    async def _sleep(self) -> None:
        if not self._listening():
            async with self._listen_lock:
                if not self._listening():
                    with contextlib.suppress(Exception):
                        await self._listen()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.poll_interval_seconds):
                await self._wake.wait()
        self._wake.clear()

    async def _retention(self) -> None:
        await _every(
            self.settings.retention_interval_seconds,
            self._stopped,
            self.delivery.purge,
            "retention.error",
        )

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


class ReminderScheduler:
    """Every `reminder_poll_seconds`, create the survey reminders that are due.

    Time comes only from the service's clock (tests freeze it; the e2e suite moves it).
    Several replicas may run this at once: the idempotency key's unique constraint lets
    exactly one of them create each reminder.
    """

    def __init__(self, ctx: ServiceContext, settings: NotifierSettings) -> None:
        self.ctx = ctx
        self.settings = settings
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """One tick; returns the number of reminders created."""
        # ctx.clock is read each tick: tests replace it, the e2e suite moves it.
        return await survey_mail.schedule_reminders(self.ctx.pool, self.settings, self.ctx.clock)

    def start(self) -> None:
        """Start the loop."""
        self._stopped.clear()
        self._task = asyncio.create_task(self._run(), name="notifier-reminders")

    async def stop(self) -> None:
        """Stop after the current tick (each reminder is committed on its own)."""
        self._stopped.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        # A failed tick loses nothing: the next one continues where it stopped.
        await _every(
            self.settings.reminder_poll_seconds, self._stopped, self.run_once, "reminders.error"
        )
