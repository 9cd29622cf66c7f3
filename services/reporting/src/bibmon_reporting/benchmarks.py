"""Computing a survey's benchmark figures, and the worker that keeps them up to date.

Every change to a survey's counted submissions marks it (`benchmark_state.change_seq`);
the worker of any replica picks marked surveys and recomputes all their figures in SQL
(`repository.compute_benchmarks`). Changes that arrive while a computation runs are
picked up by the next one, so a burst of submissions costs a few computations, not one
each (the debounce). An advisory lock keeps two replicas off the same survey.

When the survey has closed, the same transaction records `reporting.report.ready.v1` in
the outbox for every counted organisation not told before (`report_ready`), so the
event always follows figures that exist.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import structlog

from bibmon_common.app import ServiceContext
from bibmon_common.background import run_periodically
from bibmon_common.clock import Clock
from bibmon_common.contracts.reporting import ReportReady
from bibmon_common.messaging.outbox import enqueue
from bibmon_common.questionnaire import Questionnaire
from bibmon_reporting import repository as repo

log = structlog.get_logger(__name__)

SOURCE = "bibmon-reporting"


async def compute_survey(pool: asyncpg.Pool, clock: Clock, survey_id: UUID) -> bool:
    """Recompute one survey's figures; False when another replica is computing it."""
    async with pool.acquire() as conn, conn.transaction():
        if not await repo.try_lock_survey(conn, survey_id):
            return False
        state = await repo.get_state(conn, survey_id)
        if state is None:
            return True
        # Read before computing: a change committed meanwhile leaves the survey marked.
        seq = state["change_seq"]
        survey = await repo.get_survey(conn, survey_id)
        # Numeric keys of every version (answers count on the version they were given on);
        # per inhabitant as the latest version says.
        numeric: dict[str, None] = {}
        per_inhabitant: list[str] = []
        for raw in await repo.questionnaires(conn, survey_id):
            questionnaire = Questionnaire.model_validate(raw)
            numeric.update(dict.fromkeys(q.key for q in questionnaire.questions() if q.numeric))
            per_inhabitant = [q.key for q in questionnaire.questions() if q.per_inhabitant]
        computed_at = clock.now()
        counted = await repo.compute_benchmarks(conn, survey_id, list(numeric), per_inhabitant)
        await repo.mark_computed(conn, survey_id, seq, computed_at, counted, list(numeric))
        announced = 0
        if survey is not None and survey["closed_at"] is not None:
            for organisation_id in await repo.announce_new(conn, survey_id, computed_at):
                await enqueue(
                    conn,
                    ReportReady(
                        survey_id=survey_id,
                        organisation_id=organisation_id,
                        computed_at=computed_at,
                    ),
                    source=SOURCE,
                )
                announced += 1
    log.info("benchmarks.computed", survey_id=str(survey_id), counted=counted, announced=announced)
    return True


async def compute_dirty(pool: asyncpg.Pool, clock: Clock) -> int:
    """Recompute every survey whose figures are out of date; returns how many were done."""
    async with pool.acquire() as conn:
        surveys = await repo.dirty_surveys(conn)
    done = 0
    for survey_id in surveys:
        done += await compute_survey(pool, clock, survey_id)
    return done


async def run_worker(ctx: ServiceContext) -> None:
    """Background loop of each replica: keep the figures current."""
    interval = ctx.settings.benchmark_poll_seconds
    await run_periodically(
        lambda: compute_dirty(ctx.pool, ctx.clock),
        interval=interval,
        failure_event="benchmarks.worker_failed",
    )


async def start_worker(ctx: ServiceContext) -> None:
    """Startup hook: run the worker next to the consumers."""
    if ctx.settings.start_background_workers:
        ctx.spawn(run_worker(ctx), name="reporting-benchmarks")
