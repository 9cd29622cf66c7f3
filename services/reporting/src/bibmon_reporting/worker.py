"""The benchmark worker: each replica keeps the figures of changed surveys current."""

from __future__ import annotations

import asyncio

import structlog

from bibmon_common.app import ServiceContext
from bibmon_reporting.deps import ReportingDeps
from bibmon_reporting.usecases.benchmarks import compute_dirty

log = structlog.get_logger(__name__)


async def run_worker(deps: ReportingDeps) -> None:
    """Background loop of each replica: keep the figures current."""
    interval = deps.settings.benchmark_poll_seconds
    while True:
        try:
            await compute_dirty(deps)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("benchmarks.worker_failed")
        await asyncio.sleep(interval)


async def start_worker(ctx: ServiceContext[ReportingDeps]) -> None:
    """Startup hook: run the worker next to the consumers."""
    if ctx.settings.start_background_workers:
        ctx.spawn(run_worker(ctx.deps), name="reporting-benchmarks")
