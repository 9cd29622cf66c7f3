"""Reporting's rebuild: every published survey once more, as `surveys.survey.replayed.v1`."""

from __future__ import annotations

from uuid import UUID

import structlog

from bibmon_common.contracts.surveys import SurveyReplayed
from bibmon_surveys import repository as repo
from bibmon_surveys.deps import SurveysDeps
from bibmon_surveys.repository import Conn
from bibmon_surveys.usecases.presenting import enqueue, facts

log = structlog.get_logger(__name__)


async def replay_surveys(conn: Conn, deps: SurveysDeps, replay_id: UUID) -> int:
    """Re-publish every published survey as `surveys.survey.replayed.v1` (ADR 0012).

    Runs in the consumer's transaction, so the replay is in the outbox once or not at all.
    """
    rows = await repo.published_surveys(conn)
    for row in rows:
        await enqueue(
            conn,
            deps,
            SurveyReplayed(
                **facts(row),
                questionnaire_versions=tuple(row["versions"] or ()),
                closed_at=row["closed_at"],
            ),
        )
    log.info("replay.surveys", replay_id=str(replay_id), count=len(rows))
    return len(rows)
