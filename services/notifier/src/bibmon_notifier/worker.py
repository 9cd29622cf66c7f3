"""Background loops of the service: the sender (due e-mails) and the reminder scheduler."""

from __future__ import annotations

import asyncio

import structlog

from bibmon_common.background import Wakeup, run_periodically
from bibmon_notifier.deps import NotifierDeps
from bibmon_notifier.repository import NOTIFY_CHANNEL
from bibmon_notifier.usecases import delivery, survey_mail

log = structlog.get_logger(__name__)


class SenderWorker:
    """`concurrency` loops deliver due e-mails; NOTIFY wakes them, a short poll backs it up."""

    def __init__(self, deps: NotifierDeps) -> None:
        self.deps = deps
        self.settings = deps.settings
        # One listener shared by every delivery loop; a NOTIFY wakes them all.
        self._wakeup = Wakeup(deps.pool, NOTIFY_CHANNEL)
        self._stopped = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start the delivery loops, the NOTIFY listener and the retention loop."""
        self._stopped.clear()
        await self._wakeup.ensure()
        for i in range(self.settings.sender_concurrency):
            self._tasks.append(asyncio.create_task(self._run(), name=f"notifier-sender-{i}"))
        self._tasks.append(asyncio.create_task(self._retention(), name="notifier-retention"))
        log.info("sender.started", concurrency=self.settings.sender_concurrency)

    async def stop(self) -> None:
        """Let e-mails being sent finish (bounded by the SMTP timeout), then stop."""
        self._stopped.set()
        self._wakeup.set()
        if self._tasks:
            _, pending = await asyncio.wait(
                self._tasks, timeout=self.settings.smtp_timeout_seconds + 5
            )
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._wakeup.close()
        log.info("sender.stopped")

    def wake(self) -> None:
        """Look for due e-mails now."""
        self._wakeup.set()

    async def _run(self) -> None:
        # Database trouble: logged, backed off; the job stays pending. A delivered job
        # means there may be more: look again at once.
        await run_periodically(
            lambda: delivery.deliver_next(self.deps),
            interval=self.settings.poll_interval_seconds,
            failure_event="sender.error",
            stopped=self._stopped,
            wakeup=self._wakeup,
            again=bool,
        )

    async def _retention(self) -> None:
        await run_periodically(
            lambda: delivery.purge(self.deps),
            interval=self.settings.retention_interval_seconds,
            failure_event="retention.error",
            stopped=self._stopped,
            log_error_text=False,
        )


class ReminderScheduler:
    """Every `reminder_poll_seconds`, create the survey reminders that are due.

    Time comes only from the service's clock (tests freeze it; the e2e suite moves it).
    Several replicas may run this at once: the idempotency key's unique constraint lets
    exactly one of them create each reminder.
    """

    def __init__(self, deps: NotifierDeps) -> None:
        self.deps = deps
        self.settings = deps.settings
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """One tick; returns the number of reminders created."""
        return await survey_mail.schedule_reminders(self.deps)

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
        await run_periodically(
            self.run_once,
            interval=self.settings.reminder_poll_seconds,
            failure_event="reminders.error",
            stopped=self._stopped,
            log_error_text=False,
        )
