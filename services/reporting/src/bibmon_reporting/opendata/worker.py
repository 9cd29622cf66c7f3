"""The open-data worker: each replica publishes the datasets that are due."""

from __future__ import annotations

import structlog

from bibmon_common.app import ServiceContext
from bibmon_common.background import run_periodically
from bibmon_reporting.opendata.services import OpenDataConfig, publish_due

log = structlog.get_logger(__name__)


async def run_worker(ctx: ServiceContext) -> None:
    """Background loop: publish due datasets, then wait a poll interval."""
    config = OpenDataConfig.from_settings(ctx.settings)
    interval = ctx.settings.open_data_poll_seconds
    await run_periodically(
        lambda: publish_due(ctx.pool, ctx.clock, config),
        interval=interval,
        failure_event="opendata.worker_failed",
    )


async def start_worker(ctx: ServiceContext) -> None:
    """Startup hook: run the worker next to the consumers and the benchmark worker."""
    if ctx.settings.start_background_workers and ctx.settings.open_data_publish:
        ctx.spawn(run_worker(ctx), name="reporting-opendata")
