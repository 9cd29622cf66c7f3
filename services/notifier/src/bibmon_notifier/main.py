"""The notifier service: the one service that sends e-mail.

`uvicorn bibmon_notifier.main:app` serves it with settings from the environment;
tests call `create_app(settings, clock=FrozenClock(...))`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bibmon_common import metrics
from bibmon_common.app import ServiceContext, create_service_app, lazy_app
from bibmon_common.auth import JwksProvider
from bibmon_common.clock import Clock
from bibmon_notifier import consumers
from bibmon_notifier.api.routes import router
from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.deps import SERVICE, NotifierDeps, build_deps
from bibmon_notifier.usecases import emails
from bibmon_notifier.worker import ReminderScheduler, SenderWorker

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


async def email_gauges(ctx: ServiceContext[NotifierDeps]) -> None:
    """E-mails waiting and failed, read from the e-mail table when Prometheus scrapes."""
    state = await emails.delivery_state(ctx.deps)
    metrics.EMAILS_WAITING.set(state.waiting)
    metrics.EMAILS_OLDEST_WAITING.set(state.oldest_waiting_seconds)
    metrics.EMAILS_FAILED_STORED.set(state.failed)


class _Loops:
    """The sender worker and the reminder scheduler of one running app."""

    def __init__(self) -> None:
        self.sender: SenderWorker | None = None
        self.reminders: ReminderScheduler | None = None

    async def start(self, ctx: ServiceContext[NotifierDeps]) -> None:
        metrics.add_scrape_hook(ctx, email_gauges)
        if not ctx.settings.start_background_workers:
            return
        self.sender = SenderWorker(ctx.deps)
        self.reminders = ReminderScheduler(ctx.deps)
        await self.sender.start()
        self.reminders.start()

    async def stop(self, ctx: ServiceContext[NotifierDeps]) -> None:
        if self.reminders is not None:
            await self.reminders.stop()
            self.reminders = None
        if self.sender is not None:
            await self.sender.stop()
            self.sender = None
        await ctx.deps.recipients.close()


def create_app(
    settings: NotifierSettings | None = None,
    *,
    jwks_provider: JwksProvider | None = None,
    consumer_retry_delays: Sequence[float] = (5, 60, 600),
    clock: Clock | None = None,
) -> FastAPI:
    """Build the notifier: operator API, command and event consumers, sender worker.

    `clock` replaces the one the settings choose (tests freeze it here, before start-up).
    """
    settings = settings or NotifierSettings()
    loops = _Loops()

    def build_consumers(ctx: ServiceContext[NotifierDeps]) -> list[Any]:
        return consumers.build(ctx, retry_delays=consumer_retry_delays)

    return create_service_app(
        settings,
        service=SERVICE,
        title="Bibliotheekmonitor — notifier",
        description=(
            "Sends the platform's e-mails: from `notifier.send_email.v1` commands, and "
            "survey invitations, reminders, receipts and returned-for-correction notices "
            "from surveys' and responses' events; operators see and retry failed e-mails here."
        ),
        routers=[router],
        migrations_dir=MIGRATIONS_DIR,
        deps=build_deps(settings),
        clock=clock,
        consumers=build_consumers,
        on_startup=[loops.start],
        on_shutdown=[loops.stop],
        jwks_provider=jwks_provider,
        # Revoked sessions from a copy reloaded every second, not a query per request.
        revocation_refresh=1.0,
    )


__getattr__ = lazy_app(__name__, create_app)
