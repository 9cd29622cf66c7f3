"""The open-data worker: each replica publishes the datasets that are due."""

from __future__ import annotations

import asyncio

import structlog

from bibmon_common.app import ServiceContext
from bibmon_reporting.deps import ReportingDeps
from bibmon_reporting.usecases.opendata import publish_due

log = structlog.get_logger(__name__)


async def run_worker(deps: ReportingDeps) -> None:
    """Background loop: publish due datasets, then wait a poll interval."""
    interval = deps.settings.open_data_poll_seconds
    while True:
        try:
            await publish_due(deps)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("opendata.worker_failed")
        await asyncio.sleep(interval)


async def start_worker(ctx: ServiceContext[ReportingDeps]) -> None:
    """Startup hook: run the worker next to the consumers and the benchmark worker."""
    if ctx.settings.start_background_workers and ctx.settings.open_data_publish:
        ctx.spawn(run_worker(ctx.deps), name="reporting-opendata")
