"""Computing a survey's benchmark figures (the benchmark worker, `worker.py`, runs it).

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

import structlog

from bibmon_common.contracts.reporting import ReportReady
from bibmon_common.messaging.outbox import enqueue
from bibmon_common.questionnaire import Questionnaire
from bibmon_reporting import repository as repo
from bibmon_reporting.deps import ReportingDeps

log = structlog.get_logger(__name__)


async def compute_survey(deps: ReportingDeps, survey_id: UUID) -> bool:
    """Recompute one survey's figures; False when another replica is computing it."""
    async with deps.transaction() as conn:
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
        computed_at = deps.now()
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
                    source=deps.source,
                )
                announced += 1
    log.info("benchmarks.computed", survey_id=str(survey_id), counted=counted, announced=announced)
    return True


async def compute_dirty(deps: ReportingDeps) -> int:
    """Recompute every survey whose figures are out of date; returns how many were done."""
    async with deps.connection() as conn:
        surveys = await repo.dirty_surveys(conn)
    done = 0
    for survey_id in surveys:
        done += await compute_survey(deps, survey_id)
    return done
