"""The open-data worker: each replica publishes the datasets that are due."""

from __future__ import annotations

import structlog

from bibmon_common.app import ServiceContext
from bibmon_common.background import run_periodically
from bibmon_reporting.deps import ReportingDeps
from bibmon_reporting.usecases.opendata import publish_due

log = structlog.get_logger(__name__)


async def run_worker(deps: ReportingDeps) -> None:
    """Background loop: publish due datasets, then wait a poll interval."""
    await run_periodically(
        lambda: publish_due(deps),
        interval=deps.settings.open_data_poll_seconds,
        failure_event="opendata.worker_failed",
    )


async def start_worker(ctx: ServiceContext[ReportingDeps]) -> None:
    """Startup hook: run the worker next to the consumers and the benchmark worker."""
    if ctx.settings.start_background_workers and ctx.settings.open_data_publish:
        ctx.spawn(run_worker(ctx.deps), name="reporting-opendata")
