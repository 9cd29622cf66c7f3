"""Designing surveys: create a draft, change it, publish it (and later versions)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from bibmon_common.contracts.surveys import QuestionnairePublished, SurveyPublished, SurveyUpdated
from bibmon_common.errors import Conflict, NotFound, field_error
from bibmon_common.projections import list_organisations
from bibmon_common.questionnaire import Questionnaire
from bibmon_surveys import domain
from bibmon_surveys import repository as repo
from bibmon_surveys.deps import SurveysDeps
from bibmon_surveys.domain import Status
from bibmon_surveys.models import SurveyIn, SurveyOut, SurveyPatch
from bibmon_surveys.repository import Conn, Row
from bibmon_surveys.usecases.presenting import (
    as_columns,
    enqueue,
    facts,
    invalid,
    participant_errors,
    participant_spec,
    present,
    status_at,
)

log = structlog.get_logger(__name__)

_NOT_NULL = ("title", "description", "mandatory", "opens_at", "closes_at", "participants")
_FACTS_IN_UPDATE = ("title", "description", "closes_at")


async def _series_errors(
    conn: Conn, survey_id: UUID, series_key: str | None, questionnaire: Any
) -> list[dict[str, str]]:
    """A question keeps its key *and* type across the versions of a survey and across the
    surveys of a series, so answers and figures stay comparable: a key that a published
    version used with another type is refused. The caller holds the series lock."""
    if questionnaire is None:
        return []
    own: dict[str, tuple[str, int]] = {}
    series: dict[str, tuple[str, str]] = {}
    for row in await repo.series_questionnaires(conn, survey_id, series_key):
        for question in Questionnaire.model_validate(row["questionnaire"]).questions():
            if row["own"]:
                own.setdefault(question.key, (question.type, row["version"]))
            else:
                series.setdefault(question.key, (question.type, row["title"]))
    errors = []
    for question in Questionnaire.model_validate(questionnaire).questions():
        key = question.key
        if key in own and own[key][0] != question.type:
            errors.append(
                field_error(
                    f"questionnaire.{key}",
                    f"The question {key!r} is a {own[key][0]} question in version "
                    f"{own[key][1]} of this survey; a question keeps its key and type across "
                    "versions, so give a different question a new key.",
                    "version_type_mismatch",
                )
            )
        elif key in series and series[key][0] != question.type:
            errors.append(
                field_error(
                    f"questionnaire.{key}",
                    f"In the series {series_key!r} the question {key!r} is a "
                    f"{series[key][0]} question (survey {series[key][1]!r}); a question keeps "
                    "its key and type across the series, so keep its type or give a "
                    "different question a new key.",
                    "series_type_mismatch",
                )
            )
    return errors


# --- creating --------------------------------------------------------------------------


async def create_survey(deps: SurveysDeps, survey: SurveyIn) -> SurveyOut:
    """Create a draft survey (researcher, kb_admin)."""
    values, errors = as_columns(dict(survey))
    errors += domain.fact_errors(values)
    now = deps.now()
    survey_id = uuid.uuid4()
    async with deps.transaction() as conn:
        errors += await participant_errors(conn, participant_spec(values["participants"]))
        await repo.lock_series(conn, values.get("series_key"))
        errors += await _series_errors(
            conn, survey_id, values.get("series_key"), values.get("questionnaire")
        )
        if errors:
            raise invalid(errors)
        await repo.insert_survey(conn, values | {"id": survey_id, "created_at": now})
        row = await repo.get_survey(conn, survey_id)
    assert row is not None
    log.info("survey.created", survey_id=str(survey_id))
    return present(row, now)


# --- changing --------------------------------------------------------------------------


async def update_survey(deps: SurveysDeps, survey_id: UUID, patch: SurveyPatch) -> SurveyOut:
    """Change a survey: a draft freely; a published one only its title, description,
    deadline and questionnaire (a new version); a closed one not at all."""
    now = deps.now()
    data = {name: getattr(patch, name) for name in patch.model_fields_set}
    _refuse_nulls(data)
    changes, errors = as_columns(data)
    async with deps.transaction() as conn:
        row = await _changeable_survey(conn, survey_id, now)
        errors += await _change_errors(conn, row, changes, now)
        if errors:
            raise invalid(errors)
        fields = {k: v for k, v in changes.items() if v != row[k]}
        if not fields:
            return present(row, now)
        new_version = await _new_questionnaire_version(conn, deps, row, fields, now)
        if new_version is not None:
            fields["questionnaire_version"] = new_version
        updated = await _store_changes(conn, deps, row, fields, now)
    log.info("survey.updated", survey_id=str(survey_id), fields=sorted(fields))
    if new_version is not None:
        log.info("questionnaire.published", survey_id=str(survey_id), version=new_version)
    return present(updated, now)


def _refuse_nulls(data: dict[str, Any]) -> None:
    """A survey always has these facts: null is no change but an error."""
    errors = [
        field_error(name, "This field may not be null.", "null")
        for name in _NOT_NULL
        if name in data and data[name] is None
    ]
    if errors:
        raise invalid(errors)


async def _changeable_survey(conn: Conn, survey_id: UUID, now: datetime) -> Row:
    """The survey, locked for the change; 404 if missing, 409 once it is closed."""
    row = await repo.get_survey(conn, survey_id, for_update=True)
    if row is None:
        raise NotFound("The survey does not exist.")
    if status_at(row, now) is Status.CLOSED:
        raise Conflict("The survey is closed and can no longer be changed.", type_="closed")
    return row


async def _change_errors(
    conn: Conn, row: Row, changes: dict[str, Any], now: datetime
) -> list[dict[str, str]]:
    """Why `changes` cannot be made to the survey `row`: frozen fields of a published
    survey, facts that no longer fit together, unknown participants, question types that
    differ from the versions and the series (taking the series lock)."""
    published = row["published_at"] is not None
    current = dict(row)
    errors: list[dict[str, str]] = []
    if published:
        errors += _published_change_errors(current, changes, now)
        # A frozen field already has its error; check the rest against what stays.
        checked = {k: v for k, v in changes.items() if k not in domain.FROZEN_AFTER_PUBLISH}
    else:
        checked = changes
    errors += domain.fact_errors(current | checked)
    if "participants" in changes and not published:
        errors += await participant_errors(conn, participant_spec(changes["participants"]))
    if "questionnaire" in checked or "series_key" in checked:
        merged = current | checked
        await repo.lock_series(conn, merged["series_key"])
        errors += await _series_errors(
            conn, row["id"], merged["series_key"], merged["questionnaire"]
        )
    return errors


def _published_change_errors(
    current: dict[str, Any], changes: dict[str, Any], now: datetime
) -> list[dict[str, str]]:
    """What a published survey refuses: frozen fields, no questionnaire, a past deadline."""
    errors = [
        field_error(
            name,
            f"{name} is fixed once the survey is published and cannot be changed.",
            "frozen",
        )
        for name in domain.frozen_changes(current, changes)
    ]
    if "questionnaire" in changes and changes["questionnaire"] is None:
        errors.append(
            field_error(
                "questionnaire",
                "A published survey keeps a questionnaire; send a new version instead.",
                "null",
            )
        )
    if "closes_at" in changes:
        errors += domain.deadline_errors(changes["closes_at"], now)
    return errors


async def _new_questionnaire_version(
    conn: Conn, deps: SurveysDeps, row: Row, fields: dict[str, Any], now: datetime
) -> int | None:
    """A published survey's changed questionnaire becomes its next frozen version,
    announced (QuestionnairePublished); returns that version, or None."""
    if row["published_at"] is None or "questionnaire" not in fields:
        return None
    version: int = row["questionnaire_version"] + 1
    await repo.insert_questionnaire_version(conn, row["id"], version, fields["questionnaire"], now)
    await enqueue(
        conn,
        deps,
        QuestionnairePublished(
            survey_id=row["id"],
            questionnaire_version=version,
            questionnaire=Questionnaire.model_validate(fields["questionnaire"]),
        ),
    )
    return version


async def _store_changes(
    conn: Conn, deps: SurveysDeps, row: Row, fields: dict[str, Any], now: datetime
) -> Row:
    """Write the changed columns; a published survey's changed facts are announced
    (SurveyUpdated). Returns the survey as it is now."""
    await repo.update_survey(conn, row["id"], fields | {"updated_at": now})
    updated = await repo.get_survey(conn, row["id"])
    assert updated is not None
    if row["published_at"] is not None and any(name in fields for name in _FACTS_IN_UPDATE):
        await enqueue(conn, deps, SurveyUpdated(**facts(updated)))
    return updated


# --- publishing ------------------------------------------------------------------------


async def publish_survey(deps: SurveysDeps, survey_id: UUID) -> SurveyOut:
    """Publish a complete draft: freeze questionnaire version 1 and the participants."""
    now = deps.now()
    async with deps.transaction() as conn:
        row = await repo.get_survey(conn, survey_id, for_update=True)
        if row is None:
            raise NotFound("The survey does not exist.")
        if row["published_at"] is not None:
            raise Conflict("The survey is already published.", type_="already-published")
        errors = domain.fact_errors(dict(row))
        if row["questionnaire"] is None:
            errors.append(
                field_error("questionnaire", "Add a questionnaire before publishing.", "required")
            )
        errors += domain.deadline_errors(row["closes_at"], now)
        spec = participant_spec(row["participants"])
        organisations = await list_organisations(conn)
        unknown = domain.unknown_organisations(spec, (o["id"] for o in organisations))
        resolved = domain.resolve(spec, organisations)
        errors += unknown
        await repo.lock_series(conn, row["series_key"])
        errors += await _series_errors(conn, survey_id, row["series_key"], row["questionnaire"])
        if not resolved and not unknown:
            errors.append(
                field_error(
                    "participants",
                    "No organisation takes part; choose at least one.",
                    "no_participants",
                )
            )
        if errors:
            raise invalid(errors)
        published = await publish_checked(conn, deps, row, resolved, now)
    log.info("survey.published", survey_id=str(survey_id), participants=len(resolved))
    return published


async def publish_checked(
    conn: Conn, deps: SurveysDeps, row: Row, participants: list[UUID], published_at: datetime
) -> SurveyOut:
    """Publish a draft that passed the checks, inside the caller's transaction: freeze the
    participants and questionnaire version 1, and announce it (SurveyPublished)."""
    survey_id = row["id"]
    await repo.insert_participants(conn, survey_id, participants)
    await repo.insert_questionnaire_version(conn, survey_id, 1, row["questionnaire"], published_at)
    await repo.update_survey(
        conn,
        survey_id,
        {"published_at": published_at, "questionnaire_version": 1, "updated_at": published_at},
    )
    published = await repo.get_survey(conn, survey_id)
    assert published is not None
    await enqueue(
        conn,
        deps,
        SurveyPublished(
            **facts(published),
            questionnaire_version=1,
            questionnaire=Questionnaire.model_validate(published["questionnaire"]),
        ),
    )
    return present(published, published_at)
