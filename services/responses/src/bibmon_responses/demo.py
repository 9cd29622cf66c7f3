"""Demo data of the responses service: the answers to the demo closed survey (README.md).

When demo data is enabled (`BIBMON_RESPONSES_LOAD_DEMO_DATA`, default in development only)
and `surveys.survey.published.v1` arrives for `bibmon_common.demo.DEMO_CLOSED_SURVEY_ID`,
the consumer's handler also submits `demo_answers(organisation, DEMO_CLOSED_YEAR)` for
every participant, in the same transaction: a response with status `submitted`, its
answers, the submission in the history and `responses.response.submitted.v1` in the
outbox, as a submission through the API would leave them, dated inside the survey's
window. So reporting has a closed survey with answers at once.

Idempotent: the kernel inbox takes the event once, and an organisation that already has a
response to the survey (the unique key) is left alone.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

import structlog

from bibmon_common.contracts.surveys import SurveyPublished
from bibmon_common.demo import DEMO_CLOSED_YEAR, DEMO_NAMESPACE, demo_answers
from bibmon_common.questionnaire import validate_answers
from bibmon_responses import repository as repo
from bibmon_responses.repository import Conn
from bibmon_responses.services import record_submission

log = structlog.get_logger(__name__)


def _fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by `parts` (the same in every process)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def demo_dates(
    survey_id: uuid.UUID, organisation_id: uuid.UUID, opens_at: datetime, closes_at: datetime
) -> tuple[datetime, datetime]:
    """(started, submitted) of an organisation's demo response, inside the window."""
    window = closes_at - opens_at
    submitted_at = opens_at + window * (
        0.1 + 0.85 * _fraction("submitted", survey_id, organisation_id)
    )
    started_at = submitted_at - timedelta(
        days=1 + 20 * _fraction("started", survey_id, organisation_id)
    )
    return max(opens_at, started_at).replace(microsecond=0), submitted_at.replace(microsecond=0)


async def submit_demo_responses(conn: Conn, message: SurveyPublished) -> int:
    """Submit demo answers for every participant of the published demo closed survey.

    Runs in the consumer's transaction; returns how many responses it created.
    """
    questionnaire = message.questionnaire
    created = 0
    skipped = 0
    for organisation_id in dict.fromkeys(message.participants):
        answers = demo_answers(organisation_id, DEMO_CLOSED_YEAR)
        errors = validate_answers(questionnaire, answers, complete=True)
        if errors:
            # Only when someone changed the demo questionnaire without the generator.
            log.warning(
                "demo.answers_invalid",
                survey_id=str(message.survey_id),
                organisation_id=str(organisation_id),
                questions=sorted({e.question for e in errors}),
            )
            skipped += 1
            continue
        started_at, submitted_at = demo_dates(
            message.survey_id, organisation_id, message.opens_at, message.closes_at
        )
        response, new = await repo.lock_or_create_response(
            conn,
            response_id=uuid.uuid5(
                DEMO_NAMESPACE, f"response/{message.survey_id}/{organisation_id}"
            ),
            survey_id=message.survey_id,
            organisation_id=organisation_id,
            questionnaire_version=message.questionnaire_version,
            status="submitted",
            now=started_at,
        )
        if not new:
            skipped += 1
            continue
        await repo.upsert_answers(conn, response["id"], answers, revision=1, changed_at=started_at)
        await record_submission(
            conn,
            response,
            questionnaire,
            answers,
            explanations={},
            warnings=[],  # the first survey of its series: nothing to compare with
            at=submitted_at,
            revision=1,
        )
        created += 1
    log.info(
        "demo.responses_submitted",
        survey_id=str(message.survey_id),
        created=created,
        skipped=skipped,
    )
    return created
