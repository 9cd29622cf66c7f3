"""The response as the API shows it: the survey's facts, the questionnaire version, the
stored answers, plausibility warnings against last time's answers and the national range.

The steps the other use-case modules share, and `get_response`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from bibmon_common.errors import NotFound
from bibmon_common.questionnaire import Questionnaire, validate_answers
from bibmon_responses import repository as repo
from bibmon_responses.deps import ResponsesDeps
from bibmon_responses.domain import (
    EDITABLE,
    PlausibilityWarning,
    StoredAnswer,
    SurveyFacts,
    plausibility_warnings,
    present_answers,
    window_problem,
)
from bibmon_responses.models import ResponseOut, WarningOut
from bibmon_responses.repository import Conn, Row

NO_SURVEY = "No such survey for this organisation."


async def questionnaire_of(
    conn: Conn, deps: ResponsesDeps, survey_id: UUID, version: int
) -> Questionnaire:
    """A questionnaire version, parsed once per process (a published one never changes)."""
    key = (survey_id, version)
    if key not in deps.questionnaires:
        raw = await repo.get_questionnaire(conn, survey_id, version)
        if raw is None:
            raise NotFound("This questionnaire version is unknown.")
        deps.questionnaires[key] = Questionnaire.model_validate(raw)
    return deps.questionnaires[key]


def facts(row: Row, survey_id: UUID, organisation_id: UUID) -> SurveyFacts:
    """The survey's facts from a row that carries them."""
    # Participation was checked in SQL (survey_participant): of the participants only the
    # asking organisation is known here.
    return SurveyFacts(
        id=survey_id,
        series_key=row["series_key"],
        opens_at=row["opens_at"],
        closes_at=row["closes_at"],
        closed_at=row["closed_at"],
        participants=frozenset((organisation_id,)),
        questionnaire_version=row["questionnaire_version"],
    )


async def survey_for(conn: Conn, survey_id: UUID, organisation_id: UUID) -> SurveyFacts:
    """The published survey the organisation takes part in; 404 otherwise."""
    row = await repo.get_survey_for(conn, survey_id, organisation_id)
    if row is None:
        raise NotFound(NO_SURVEY)
    return facts(row, survey_id, organisation_id)


def stored_from_rows(rows: list[Row]) -> dict[str, StoredAnswer]:
    """The stored answers by question, from rows of `repo.list_answers`."""
    return {r["question"]: StoredAnswer(r["value"], r["revision"], r["changed_at"]) for r in rows}


def stored_from_tuples(answers: list[tuple[str, Any, int, datetime]]) -> dict[str, StoredAnswer]:
    """The stored answers by question, from `repo.answers_of` or what a save wrote."""
    return {q: StoredAnswer(value, revision, at) for q, value, revision, at in answers}


async def plausibility(
    conn: Conn,
    deps: ResponsesDeps,
    survey: SurveyFacts,
    organisation_id: UUID,
    questionnaire: Questionnaire,
    answers: dict[str, Any],
) -> tuple[dict[str, Any], list[PlausibilityWarning]]:
    """The organisation's answers to the previous survey of the series (for keys of this
    questionnaire), and the warnings `answers` raise against them and its national range."""
    previous: dict[str, Any] = {}
    national: dict[str, tuple[float, float]] = {}
    if survey.series_key is not None:
        previous_id = await repo.previous_survey_id(
            conn, survey.id, survey.series_key, survey.opens_at
        )
        if previous_id is not None:
            keys = questionnaire.by_key()
            mine = await repo.latest_submitted_answers(conn, previous_id, organisation_id)
            own: dict[str, Any] = mine[0]["answers"] if mine else {}
            previous = {k: v for k, v in own.items() if k in keys}
            national = await repo.national_ranges(conn, previous_id, list(keys))
    return previous, _warnings(deps, questionnaire, answers, previous, national)


def _warnings(
    deps: ResponsesDeps,
    questionnaire: Questionnaire,
    answers: dict[str, Any],
    previous: dict[str, Any],
    national: dict[str, tuple[float, float]],
) -> list[PlausibilityWarning]:
    return plausibility_warnings(
        questionnaire,
        answers,
        previous=previous,
        national=national,
        ratio=deps.settings.plausibility_ratio,
        range_factor=deps.settings.national_range_factor,
    )


async def _plausibility_in(
    conn: Conn,
    deps: ResponsesDeps,
    context: Row,
    questionnaire: Questionnaire,
    answers: dict[str, Any],
) -> tuple[dict[str, Any], list[PlausibilityWarning]]:
    """As `plausibility`, from what `repo.read_response`/`lock_response_for_change`
    already loaded; only a stale national range costs another statement."""
    previous: dict[str, Any] = {}
    national: dict[str, tuple[float, float]] = {}
    previous_id = context["previous_survey_id"]
    if previous_id is not None:
        keys = questionnaire.by_key()
        own: dict[str, Any] = context["previous_answers"] or {}
        previous = {k: v for k, v in own.items() if k in keys}
        if context["national_ranges"] is not None:
            national = repo.ranges_for(context["national_ranges"], list(keys))
        else:
            national = await repo.compute_national_ranges(conn, previous_id, list(keys))
    return previous, _warnings(deps, questionnaire, answers, previous, national)


async def view(
    conn: Conn,
    deps: ResponsesDeps,
    survey: SurveyFacts,
    organisation_id: UUID,
    response: Row | dict[str, Any] | None,
    *,
    stored: dict[str, StoredAnswer] | None = None,
    context: Row | None = None,
) -> ResponseOut:
    """The response as the API shows it. `stored` (the answers) and `context` (a row of
    `repo.read_response`/`lock_response_for_change`) save the statements that load them."""
    version = response["questionnaire_version"] if response else survey.questionnaire_version
    questionnaire = await questionnaire_of(conn, deps, survey.id, version)
    if stored is None:
        stored = stored_from_rows(await repo.list_answers(conn, response["id"])) if response else {}
    answers = present_answers(stored)
    if context is not None:
        previous, warnings = await _plausibility_in(conn, deps, context, questionnaire, answers)
    else:
        previous, warnings = await plausibility(
            conn, deps, survey, organisation_id, questionnaire, answers
        )
    status = response["status"] if response else "not_started"
    correction_open = bool(response and response["correction_open"])
    can_edit = (
        status in EDITABLE
        and window_problem(survey, deps.now(), correction_open=correction_open) is None
    )
    return ResponseOut(
        survey_id=survey.id,
        organisation_id=organisation_id,
        status=status,
        version=response["revision"] if response else 0,
        questionnaire_version=version,
        answers=answers,
        changed_at={k: a.changed_at for k, a in stored.items()},
        submitted_at=response["submitted_at"] if response else None,
        submission=response["submission"] if response else 0,
        remark=response["remark"] if response else None,
        reopen_reason=response["reopen_reason"] if response else None,
        explanations=dict(response["explanations"]) if response else {},
        warnings=[WarningOut(**w.as_dict()) for w in warnings],
        previous_answers=previous,
        can_edit=can_edit,
        can_submit=can_edit and not validate_answers(questionnaire, answers, complete=True),
        updated_at=response["updated_at"] if response else None,
    )


async def get_response(deps: ResponsesDeps, survey_id: UUID, organisation_id: UUID) -> ResponseOut:
    """The organisation's response as its staff (or a reviewer) sees it.

    One statement (so one snapshot) reads the survey, the response, its answers and the
    plausibility context; a stale national range is recomputed once (and kept).
    """
    async with deps.connection() as conn:
        row = await repo.read_response(conn, survey_id, organisation_id)
        if row is None or row["questionnaire_version"] is None:
            raise NotFound(NO_SURVEY)
        survey = facts(row, survey_id, organisation_id)
        response = repo.response_of(row) if row["r_id"] is not None else None
        stored = stored_from_tuples(repo.answers_of(row))
        return await view(conn, deps, survey, organisation_id, response, stored=stored, context=row)
