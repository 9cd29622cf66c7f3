"""The notifier service: the one service that sends e-mail.

`uvicorn bibmon_notifier.main:app` serves it with settings from the environment;
tests call `create_app(settings)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bibmon_common import metrics
from bibmon_common.app import ServiceContext, create_service_app, lazy_app
from bibmon_common.auth import JwksProvider
from bibmon_notifier import consumers, repository
from bibmon_notifier.api.routes import router
from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.mail import SmtpSender
from bibmon_notifier.recipients import IdentityClient
from bibmon_notifier.rendering import Renderer
from bibmon_notifier.services import Delivery
from bibmon_notifier.worker import ReminderScheduler, SenderWorker

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
SERVICE = "notifier"


async def email_gauges(ctx: ServiceContext) -> None:
    """E-mails waiting and failed, read from the job table when Prometheus scrapes."""
    async with ctx.pool.acquire() as conn:
        state = await repository.delivery_state(conn)
    metrics.EMAILS_WAITING.set(state["waiting"])
    metrics.EMAILS_OLDEST_WAITING.set(state["oldest_waiting"])
    metrics.EMAILS_FAILED_STORED.set(state["failed"])


def create_app(
    settings: NotifierSettings | None = None,
    *,
    jwks_provider: JwksProvider | None = None,
    consumer_retry_delays: Sequence[float] = (5, 60, 600),
) -> FastAPI:
    """Build the notifier: operator API, command and event consumers, sender worker."""
    settings = settings or NotifierSettings()
    renderer = Renderer(support_address=settings.support_address)

    async def start_sender(ctx: ServiceContext) -> None:
        identity = IdentityClient(settings)
        delivery = Delivery(
            pool=ctx.pool,
            settings=settings,
            renderer=renderer,
            sender=SmtpSender(settings),
            identity=identity,
            clock=lambda: ctx.clock,
        )
        worker = SenderWorker(delivery)
        reminders = ReminderScheduler(ctx, settings)
        ctx.extras.update(delivery=delivery, sender=worker, reminders=reminders, identity=identity)
        metrics.add_scrape_hook(ctx, email_gauges)
        if settings.start_background_workers:
            await worker.start()
            reminders.start()

    async def stop_sender(ctx: ServiceContext) -> None:
        reminders = ctx.extras.get("reminders")
        if reminders is not None:
            await reminders.stop()
        worker = ctx.extras.get("sender")
        if worker is not None:
            await worker.stop()
        identity = ctx.extras.get("identity")
        if identity is not None:
            await identity.close()

    def build_consumers(ctx: ServiceContext) -> list[Any]:
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
        consumers=build_consumers,
        on_startup=[start_sender],
        on_shutdown=[stop_sender],
        jwks_provider=jwks_provider,
    )


__getattr__ = lazy_app(__name__, create_app)
