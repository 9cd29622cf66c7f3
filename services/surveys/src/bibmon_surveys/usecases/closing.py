"""Closing surveys: by hand before the deadline, and at the deadline (the closer)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import structlog

from bibmon_common.contracts.surveys import SurveyClosed
from bibmon_common.errors import Conflict, NotFound
from bibmon_surveys import repository as repo
from bibmon_surveys.deps import SurveysDeps
from bibmon_surveys.domain import Status
from bibmon_surveys.models import SurveyOut
from bibmon_surveys.repository import Conn
from bibmon_surveys.usecases.presenting import enqueue, present, status_at

log = structlog.get_logger(__name__)


async def close_survey(deps: SurveysDeps, survey_id: UUID) -> SurveyOut:
    """Close a published survey by hand, before its deadline."""
    now = deps.now()
    async with deps.transaction() as conn:
        row = await repo.get_survey(conn, survey_id, for_update=True)
        if row is None:
            raise NotFound("The survey does not exist.")
        if row["published_at"] is None:
            raise Conflict("A draft cannot be closed; publish it first.", type_="not-published")
        if status_at(row, now) is Status.CLOSED:
            raise Conflict("The survey is already closed.", type_="already-closed")
        await repo.update_survey(
            conn, survey_id, {"closed_at": now, "closed_by_hand": True, "updated_at": now}
        )
        await enqueue(conn, deps, SurveyClosed(survey_id=survey_id, closed_at=now, by_hand=True))
        closed = await repo.get_survey(conn, survey_id)
    assert closed is not None
    log.info("survey.closed", survey_id=str(survey_id), by_hand=True)
    return present(closed, now)


async def close_at_deadline(
    conn: Conn, deps: SurveysDeps, now: datetime, survey_ids: Sequence[UUID] | None = None
) -> list[UUID]:
    """Close the published surveys past their deadline (only `survey_ids`, when given)
    inside the caller's transaction, `closed_at` = `closes_at`, and announce each once;
    return the surveys closed."""
    rows = await repo.close_due(conn, now, survey_ids)
    for row in rows:
        await enqueue(
            conn,
            deps,
            SurveyClosed(survey_id=row["id"], closed_at=row["closed_at"], by_hand=False),
        )
    return [row["id"] for row in rows]


async def close_due_surveys(deps: SurveysDeps) -> list[UUID]:
    """Close every published survey whose deadline has passed; each exactly once."""
    async with deps.transaction() as conn:
        closed = await close_at_deadline(conn, deps, deps.now())
    for survey_id in closed:
        log.info("survey.closed", survey_id=str(survey_id), by_hand=False)
    return closed
