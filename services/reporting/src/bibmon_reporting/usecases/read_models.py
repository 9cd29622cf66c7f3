"""Use cases that keep reporting's read models from events, and rebuild them.

The event use cases are called by consumers.py inside the consumer's transaction (with
the inbox insert), so a redelivered event changes nothing twice; every rule here
tolerates events that arrive out of order (submission numbers and event times decide,
never arrival order). `request_rebuild` and the development catch-up open their own.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog

from bibmon_common.contracts.reporting import ReplayRequested
from bibmon_common.contracts.responses import (
    ResponseReturned,
    ResponseSubmitted,
    SubmissionReplayed,
)
from bibmon_common.contracts.surveys import (
    QuestionnairePublished,
    SurveyClosed,
    SurveyPublished,
    SurveyReplayed,
    SurveyUpdated,
)
from bibmon_common.messaging.outbox import enqueue
from bibmon_common.projections import list_organisations
from bibmon_common.questionnaire import CHOICE_TYPES, TEXT_TYPES, Question, Questionnaire
from bibmon_reporting import repository as repo
from bibmon_reporting.deps import ReportingDeps
from bibmon_reporting.models import Organisation
from bibmon_reporting.opendata import repository as opendata_repo
from bibmon_reporting.opendata.pii import must_withhold
from bibmon_reporting.repository import Conn

log = structlog.get_logger(__name__)


class QuestionnaireNotKnown(Exception):
    """A submission arrived before its questionnaire version: the consumer retries it later.

    Without the questionnaire reporting cannot tell which answers it may keep.
    """


# --- surveys ----------------------------------------------------------------------------------


async def _facts(
    conn: Conn, message: SurveyPublished | SurveyUpdated | SurveyReplayed, at: datetime
) -> None:
    await repo.upsert_survey(
        conn,
        survey_id=message.survey_id,
        series_key=message.series_key,
        title=message.title,
        description=message.description,
        opens_at=message.opens_at,
        closes_at=message.closes_at,
        participants=message.participants,
        source_time=at,
    )


async def survey_published(
    deps: ReportingDeps, conn: Conn, message: SurveyPublished, at: datetime
) -> None:
    """Keep the survey's facts and its first questionnaire version."""
    await _facts(conn, message, at)
    await repo.insert_questionnaire_version(
        conn, message.survey_id, message.questionnaire_version, _json(message.questionnaire)
    )
    await repo.mark_changed(conn, message.survey_id)


async def survey_updated(
    deps: ReportingDeps, conn: Conn, message: SurveyUpdated, at: datetime
) -> None:
    """New title, description or deadline."""
    await _facts(conn, message, at)


async def questionnaire_published(
    deps: ReportingDeps, conn: Conn, message: QuestionnairePublished
) -> None:
    """Keep a new questionnaire version (its labels and per-inhabitant marks count from now)."""
    await repo.insert_questionnaire_version(
        conn, message.survey_id, message.questionnaire_version, _json(message.questionnaire)
    )
    await repo.mark_changed(conn, message.survey_id)


async def survey_closed(deps: ReportingDeps, conn: Conn, message: SurveyClosed) -> None:
    """The survey closed: compute the figures; organisations then learn their report is ready."""
    if await repo.mark_survey_closed(conn, message.survey_id, message.closed_at):
        await repo.mark_changed(conn, message.survey_id)
        log.info("survey.closed", survey_id=str(message.survey_id))


async def survey_replayed(
    deps: ReportingDeps, conn: Conn, message: SurveyReplayed, at: datetime
) -> None:
    """A survey as surveys replays it for a rebuild: facts, every version, the close."""
    await _facts(conn, message, at)
    for version in message.questionnaire_versions:
        await repo.insert_questionnaire_version(
            conn, message.survey_id, version.version, _json(version.questionnaire)
        )
    if message.closed_at is not None:
        await repo.mark_survey_closed(conn, message.survey_id, message.closed_at)
    await repo.mark_changed(conn, message.survey_id)
    await opendata_repo.note_replay(conn)


def _json(questionnaire: Questionnaire) -> dict[str, Any]:
    return questionnaire.model_dump(mode="json")


# --- organisations ----------------------------------------------------------------------------


async def organisation_changed(deps: ReportingDeps, conn: Conn, organisation_id: UUID) -> None:
    """Recompute the surveys the organisation counts in: its groups may have changed."""
    await repo.mark_changed_for_organisation(conn, organisation_id)


# --- responses --------------------------------------------------------------------------------


def kept(question: Question) -> bool:
    """Whether reporting may store answers to `question`.

    `never` stays in responses; free text (which may name people) only when published.
    """
    publication = question.effective_publication
    if publication == "never":
        return False
    return question.type not in TEXT_TYPES or publication == "public"


def kept_answers(questionnaire: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers reporting may store, by the questionnaire version they were given on."""
    by_key = questionnaire.by_key()
    return {
        key: value
        for key, value in answers.items()
        if value is not None
        and key in by_key
        and kept(by_key[key])
        and not _names_a_person(by_key[key], value)
    }


def _names_a_person(question: Question, value: Any) -> bool:
    """Published free text that looks like an e-mail, phone number or name is not kept."""
    return question.type in TEXT_TYPES and (not isinstance(value, str) or must_withhold(value))


def normalise(
    questionnaire: Questionnaire, answers: dict[str, Any]
) -> tuple[list[tuple[str, float]], list[tuple[str, str]]]:
    """The numeric answers and the chosen options (yes/no as 'true'/'false') as rows."""
    by_key = questionnaire.by_key()
    numeric: list[tuple[str, float]] = []
    choice: list[tuple[str, str]] = []
    for key, value in answers.items():
        question = by_key.get(key)
        if question is None or value is None:
            continue
        if question.numeric and isinstance(value, int | float) and not isinstance(value, bool):
            numeric.append((key, float(value)))
        elif question.type == "yes_no" and isinstance(value, bool):
            choice.append((key, "true" if value else "false"))
        elif question.type == "single_choice" and isinstance(value, str):
            choice.append((key, value))
        elif question.type in CHOICE_TYPES and isinstance(value, list):
            choice.extend((key, str(v)) for v in value)
    return numeric, choice


async def _questionnaire(conn: Conn, survey_id: UUID, version: int) -> Questionnaire:
    raw = await repo.get_questionnaire(conn, survey_id, version)
    if raw is None:
        raise QuestionnaireNotKnown(f"questionnaire {survey_id} v{version} not known yet")
    return Questionnaire.model_validate(raw)


async def _recount(conn: Conn, survey_id: UUID, organisation_id: UUID) -> None:
    """Make the latest submission that was not returned the counted one, if it changed."""
    await repo.lock_response(conn, survey_id, organisation_id)
    candidate = await repo.counted_candidate(conn, survey_id, organisation_id)
    current = await repo.get_counted(conn, survey_id, organisation_id)
    same = (candidate is None and current is None) or (
        candidate is not None
        and current is not None
        and (candidate["response_id"], candidate["submission"])
        == (current["response_id"], current["submission"])
        and candidate["answers"] == current["answers"]
    )
    if same:
        return
    numeric: list[tuple[str, float]] = []
    choice: list[tuple[str, str]] = []
    if candidate is not None:
        questionnaire = await _questionnaire(conn, survey_id, candidate["questionnaire_version"])
        numeric, choice = normalise(questionnaire, candidate["answers"])
    await repo.replace_counted(conn, survey_id, organisation_id, candidate, numeric, choice)
    await repo.mark_changed(conn, survey_id)
    log.info(
        "counted.changed",
        survey_id=str(survey_id),
        organisation_id=str(organisation_id),
        submission=candidate["submission"] if candidate else None,
    )


async def response_submitted(
    deps: ReportingDeps, conn: Conn, message: ResponseSubmitted | SubmissionReplayed
) -> None:
    """A submission (live or replayed): keep its publishable answers, then recount."""
    questionnaire = await _questionnaire(conn, message.survey_id, message.questionnaire_version)
    await repo.upsert_submission(
        conn,
        response_id=message.response_id,
        submission=message.submission,
        survey_id=message.survey_id,
        organisation_id=message.organisation_id,
        questionnaire_version=message.questionnaire_version,
        submitted_at=message.submitted_at,
        answers=kept_answers(questionnaire, message.answers),
    )
    await _recount(conn, message.survey_id, message.organisation_id)
    if isinstance(message, SubmissionReplayed):
        await opendata_repo.note_replay(conn)


async def response_returned(deps: ReportingDeps, conn: Conn, message: ResponseReturned) -> None:
    """A returned submission no longer counts (an earlier one that was not returned does)."""
    await repo.mark_returned(
        conn,
        response_id=message.response_id,
        submission=message.submission,
        survey_id=message.survey_id,
        organisation_id=message.organisation_id,
        returned_at=message.returned_at,
    )
    await _recount(conn, message.survey_id, message.organisation_id)


# --- rebuild -----------------------------------------------------------------------------------


async def request_rebuild(deps: ReportingDeps) -> UUID:
    """Empty every read model and ask the producers to replay (ADR 0012); the replay id.

    One transaction: the read models are empty exactly when the request is in the outbox,
    which the running service's relay publishes. `report_ready` stays, so no organisation
    is told twice that its report is ready.
    """
    replay_id = uuid.uuid4()
    async with deps.transaction() as conn:
        await repo.empty_read_models(conn)
        # No open dataset is published from read models that are still filling.
        await opendata_repo.pause_for_replay(conn)
        await enqueue(
            conn,
            ReplayRequested(replay_id=replay_id, requested_at=datetime.now(UTC)),
            source=deps.source,
        )
    log.info("rebuild.requested", replay_id=str(replay_id))
    return replay_id


async def catch_up_in_development(deps: ReportingDeps) -> UUID | None:
    """With demo data on: ask for a replay when reporting knows no survey yet.

    A development database made before reporting followed surveys and responses (or one
    reset on its own) then fills from what the other services already hold, so `make run`
    shows the demo reports. Nothing is emptied; a replay of facts already known changes
    nothing. Returns the replay id, or None when reporting already knows surveys.
    """
    async with deps.transaction() as conn:
        if await repo.survey_count(conn) > 0:
            return None
        replay_id = uuid.uuid4()
        await enqueue(
            conn,
            ReplayRequested(replay_id=replay_id, requested_at=datetime.now(UTC)),
            source=deps.source,
        )
    log.info("rebuild.catch_up_requested", replay_id=str(replay_id))
    return replay_id


async def keep_catching_up(deps: ReportingDeps, *, rounds: int = 5, wait: float = 30.0) -> None:
    """Ask again every `wait` seconds, `rounds` times, while reporting knows no survey."""
    for _ in range(rounds):
        await asyncio.sleep(wait)
        if await catch_up_in_development(deps) is None:
            return


# --- the organisation list ----------------------------------------------------------------------


async def organisations(deps: ReportingDeps) -> list[Organisation]:
    """Organisations known to reporting, by name (public master data, as identity published it)."""
    async with deps.connection() as conn:
        rows = await list_organisations(conn)
    return [Organisation.model_validate(r) for r in rows]
