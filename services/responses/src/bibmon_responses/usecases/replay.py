"""Replay for reporting's rebuild: every counted submission, published again."""

from __future__ import annotations

from uuid import UUID

import structlog

from bibmon_common.contracts.responses import SubmissionReplayed
from bibmon_common.messaging.outbox import enqueue
from bibmon_responses import repository as repo
from bibmon_responses.deps import ResponsesDeps
from bibmon_responses.repository import Conn

log = structlog.get_logger(__name__)


async def replay_counted_submissions(conn: Conn, deps: ResponsesDeps, replay_id: UUID) -> int:
    """Re-publish every counted submission as `responses.submission.replayed.v1`.

    Runs inside the consumer's transaction, so the replay is in the outbox once or not at
    all.
    """
    rows = await repo.counted_submissions(conn)
    for row in rows:
        await enqueue(
            conn,
            SubmissionReplayed(
                response_id=row["response_id"],
                survey_id=row["survey_id"],
                organisation_id=row["organisation_id"],
                submission=row["submission"],
                submitted_at=row["submitted_at"],
                questionnaire_version=row["questionnaire_version"],
                answers=row["answers"],
            ),
            source=deps.source,
        )
    log.info("replay.submissions", replay_id=str(replay_id), count=len(rows))
    return len(rows)
