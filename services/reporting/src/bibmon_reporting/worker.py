"""The benchmark worker: each replica keeps the figures of changed surveys current."""

from __future__ import annotations

import structlog

from bibmon_common.app import ServiceContext
from bibmon_common.background import run_periodically
from bibmon_reporting.deps import ReportingDeps
from bibmon_reporting.usecases.benchmarks import compute_dirty

log = structlog.get_logger(__name__)


async def run_worker(deps: ReportingDeps) -> None:
    """Background loop of each replica: keep the figures current."""
    await run_periodically(
        lambda: compute_dirty(deps),
        interval=deps.settings.benchmark_poll_seconds,
        failure_event="benchmarks.worker_failed",
    )


async def start_worker(ctx: ServiceContext[ReportingDeps]) -> None:
    """Startup hook: run the worker next to the consumers."""
    if ctx.settings.start_background_workers:
        ctx.spawn(run_worker(ctx.deps), name="reporting-benchmarks")
