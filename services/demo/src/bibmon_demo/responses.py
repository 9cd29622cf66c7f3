"""The responses service's demo data: the answers to the demo closed survey (README.md).

`bibmon-demo seed` (which `make run` calls once the services answer), after the surveys
part, waits until responses has learnt the demo closed survey from surveys'
`surveys.survey.published.v1` (the ordinary consumer, no demo branch), then submits
`demo_answers(organisation, DEMO_CLOSED_YEAR)` for every participant in one transaction
through the responses service's own submission step: a response with status
`submitted`, its answers, the submission in the history and
`responses.response.submitted.v1` in the outbox, as a submission through the API would
leave them, dated inside the survey's window. So reporting has a closed survey with
answers at once.

Idempotent: an organisation that already has a response to the survey (the unique key)
is left alone, so seeding again (or twice at once) creates nothing more.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import datetime, timedelta

import asyncpg
import structlog

from bibmon_common.clock import SystemClock
from bibmon_common.questionnaire import Questionnaire, validate_answers
from bibmon_demo.data import DEMO_CLOSED_SURVEY_ID, DEMO_CLOSED_YEAR, DEMO_NAMESPACE, demo_answers
from bibmon_responses import repository as repo
from bibmon_responses.config import ResponsesSettings
from bibmon_responses.deps import ResponsesDeps, build_deps
from bibmon_responses.repository import Conn
from bibmon_responses.usecases import record_submission

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


async def seed(pool: asyncpg.Pool, survey_id: uuid.UUID = DEMO_CLOSED_SURVEY_ID) -> int | None:
    """Submit demo answers for every participant of the demo closed survey, in one
    transaction; how many responses this call created, or None while responses does not
    know the survey yet (its publication has not arrived)."""
    # The dates are the demo's own (inside the survey's window), not the clock's.
    deps = build_deps(ResponsesSettings())(pool, SystemClock())
    async with deps.transaction() as conn:
        survey = await repo.get_published_survey(conn, survey_id)
        if survey is None:
            return None
        version = survey["questionnaire_version"]
        stored = await repo.get_questionnaire(conn, survey_id, version)
        questionnaire = Questionnaire.model_validate(stored)
        created = 0
        skipped = 0
        for organisation_id in dict.fromkeys(survey["participants"]):
            if await _submit(conn, deps, survey, version, questionnaire, organisation_id):
                created += 1
            else:
                skipped += 1
    log.info("demo.responses_submitted", survey_id=str(survey_id), created=created, skipped=skipped)
    return created


async def seed_when_ready(
    pool: asyncpg.Pool, *, wait_seconds: float = 300.0, poll_seconds: float = 0.5
) -> int | None:
    """Wait until responses knows the demo closed survey, then `seed`; None if it never did."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        try:
            created = await seed(pool)
        except (OSError, asyncpg.PostgresError) as exc:  # not migrated or not up yet
            log.warning("demo.seed_failed", error_type=type(exc).__name__, error=str(exc))
            created = None
        if created is not None:
            return created
        if loop.time() >= deadline:
            log.warning("demo.gave_up", reason="the demo closed survey did not arrive")
            return None
        await asyncio.sleep(poll_seconds)


async def _submit(
    conn: Conn,
    deps: ResponsesDeps,
    survey: asyncpg.Record,
    version: int,
    questionnaire: Questionnaire,
    organisation_id: uuid.UUID,
) -> bool:
    """One organisation's submitted demo response; False if it has one already."""
    survey_id = survey["id"]
    answers = demo_answers(organisation_id, DEMO_CLOSED_YEAR)
    errors = validate_answers(questionnaire, answers, complete=True)
    if errors:
        # Only when someone changed the demo questionnaire without the generator.
        log.warning(
            "demo.answers_invalid",
            survey_id=str(survey_id),
            organisation_id=str(organisation_id),
            questions=sorted({e.question for e in errors}),
        )
        return False
    started_at, submitted_at = demo_dates(
        survey_id, organisation_id, survey["opens_at"], survey["closes_at"]
    )
    response, new = await repo.lock_or_create_response(
        conn,
        response_id=uuid.uuid5(DEMO_NAMESPACE, f"response/{survey_id}/{organisation_id}"),
        survey_id=survey_id,
        organisation_id=organisation_id,
        questionnaire_version=version,
        status="submitted",
        now=started_at,
    )
    if not new:
        return False
    await repo.upsert_answers(conn, response["id"], answers, revision=1, changed_at=started_at)
    await record_submission(
        conn,
        deps,
        response,
        questionnaire,
        answers,
        explanations={},
        warnings=[],  # the first survey of its series: nothing to compare with
        at=submitted_at,
        revision=1,
    )
    return True
