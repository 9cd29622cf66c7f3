"""The organisation's changes to its own response: save some answers (autosave), submit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from pydantic import TypeAdapter

from bibmon_common.contracts.responses import ResponseSubmitted
from bibmon_common.errors import Conflict, InvalidInput, NotFound
from bibmon_common.messaging.outbox import enqueue
from bibmon_common.questionnaire import Questionnaire, validate_answers
from bibmon_responses import repository as repo
from bibmon_responses.deps import ResponsesDeps
from bibmon_responses.domain import (
    EDITABLE,
    StoredAnswer,
    SurveyFacts,
    changed_keys,
    explanation_errors,
    find_conflicts,
    present_answers,
    snapshot_answers,
    window_problem,
)
from bibmon_responses.models import ResponseOut
from bibmon_responses.repository import Conn, Row
from bibmon_responses.usecases.viewing import (
    NO_SURVEY,
    facts,
    plausibility,
    questionnaire_of,
    stored_from_rows,
    stored_from_tuples,
    survey_for,
    view,
)

log = structlog.get_logger(__name__)

_TIME = TypeAdapter(datetime)

# Optimistic saves of one response racing each other retry this often, then take the lock.
_OPTIMISTIC_TRIES = 3


def _json_time(value: datetime) -> Any:
    """A time as the API writes it elsewhere (pydantic's JSON form), for problem bodies."""
    return _TIME.dump_python(value, mode="json")


async def lock_or_start(
    conn: Conn,
    deps: ResponsesDeps,
    survey: SurveyFacts,
    organisation_id: UUID,
    status: str = "draft",
) -> tuple[Row, bool]:
    """The organisation's response, locked; created (with `status`) when it has none."""
    return await repo.lock_or_create_response(
        conn,
        response_id=uuid.uuid4(),
        survey_id=survey.id,
        organisation_id=organisation_id,
        # Starting pins the response to the questionnaire as it is now.
        questionnaire_version=survey.questionnaire_version,
        status=status,
        now=deps.now(),
    )


def _check_editable(survey: SurveyFacts, response: Row | dict[str, Any], now: datetime) -> None:
    if response["status"] not in EDITABLE:
        raise Conflict(
            f"The response is {response['status']}; a researcher must return or reopen it "
            "before it can be changed.",
            type_="response-not-editable",
        )
    problem = window_problem(survey, now, correction_open=response["correction_open"])
    if problem is not None:
        raise Conflict(problem, type_="survey-closed")


def _changes(
    stored: dict[str, StoredAnswer],
    questionnaire: Questionnaire,
    answers: dict[str, Any],
    version: int,
    revision: int,
) -> dict[str, Any]:
    """The answers a save changes, after the checks that may refuse it: valid answers,
    a known version, no question someone else changed since `version`."""
    errors = validate_answers(questionnaire, answers, complete=False)
    if errors:
        raise InvalidInput(
            "One or more answers are invalid.",
            errors=[e.as_field_error() for e in errors],
        )
    if version > revision:
        raise Conflict(
            f"Version {version} is newer than the response (version {revision}).",
            type_="edit-conflict",
            extra={"version": revision, "conflicts": []},
        )
    conflicts = find_conflicts(stored, answers, version)
    if conflicts:
        raise Conflict(
            "Someone else changed these answers since you loaded the response.",
            type_="edit-conflict",
            extra={
                "version": revision,
                "conflicts": [
                    {
                        "question": key,
                        "current_value": stored[key].value,
                        "changed_at": _json_time(stored[key].changed_at),
                    }
                    for key in conflicts
                ],
            },
        )
    return {key: answers[key] for key in changed_keys(stored, answers)}


async def save_answers(
    deps: ResponsesDeps,
    survey_id: UUID,
    organisation_id: UUID,
    answers: dict[str, Any],
    version: int,
) -> ResponseOut:
    """Save some answers (null clears one); merge with saves made since `version`.

    Optimistic, like the edit itself: one statement reads the survey, the response, its
    answers and the plausibility context (one snapshot); one statement writes, only if the
    response row is still the version read. When something changed in between, read
    again; after a few such races, save under the row lock (`_save_answers_locked`).
    Either way the outcome is that of saves made one after the other.
    """
    async with deps.connection() as conn:
        for _ in range(_OPTIMISTIC_TRIES):
            saved = await _save_answers_optimistic(
                conn, deps, survey_id, organisation_id, answers, version
            )
            if saved is not None:
                return saved
        return await _save_answers_locked(conn, deps, survey_id, organisation_id, answers, version)


def _new_response(
    survey_id: UUID, organisation_id: UUID, questionnaire_version: int, now: datetime
) -> dict[str, Any]:
    """A response not yet written, as `repo.create_with_answers` inserts it."""
    return {
        "id": uuid.uuid4(),
        "survey_id": survey_id,
        "organisation_id": organisation_id,
        "status": "draft",
        "revision": 0,
        "questionnaire_version": questionnaire_version,
        "submission": 0,
        "submitted_at": None,
        "explanations": {},
        "remark": None,
        "correction_open": False,
        "reopen_reason": None,
        "created_at": now,
        "updated_at": now,
    }


async def _save_answers_optimistic(
    conn: Conn,
    deps: ResponsesDeps,
    survey_id: UUID,
    organisation_id: UUID,
    answers: dict[str, Any],
    version: int,
) -> ResponseOut | None:
    """One try of `save_answers` without a transaction or lock; None when the response
    changed between the read and the conditional write (try again)."""
    now = deps.now()
    context = await repo.read_response(conn, survey_id, organisation_id)
    if context is None or context["questionnaire_version"] is None:
        raise NotFound(NO_SURVEY)
    survey = facts(context, survey_id, organisation_id)
    created = context["r_id"] is None
    # Starting pins the response to the questionnaire as it is now.
    response = (
        _new_response(survey_id, organisation_id, survey.questionnaire_version, now)
        if created
        else repo.response_of(context)
    )
    stored = stored_from_tuples(repo.answers_of(context))
    _check_editable(survey, response, now)
    questionnaire = await questionnaire_of(conn, deps, survey_id, response["questionnaire_version"])
    changed = _changes(stored, questionnaire, answers, version, response["revision"])
    if not (changed or created):
        return await view(
            conn, deps, survey, organisation_id, response, stored=stored, context=context
        )
    revision = response["revision"] + 1
    if created:
        saved = await repo.create_with_answers(conn, response, changed, revision=revision)
    else:
        saved = await repo.save_answers_if_unchanged(
            conn,
            response["id"],
            context["r_row_version"],
            changed,
            revision=revision,
            changed_at=now,
        )
    if saved is None:
        return None  # changed since it was read: read again
    response, written = saved
    _log_saved(survey_id, organisation_id, revision, changed)
    return await view(
        conn,
        deps,
        survey,
        organisation_id,
        response,
        stored={**stored, **stored_from_tuples(written)},
        context=context,
    )


def _log_saved(
    survey_id: UUID, organisation_id: UUID, revision: int, changed: dict[str, Any]
) -> None:
    log.info(
        "response.saved",
        survey_id=str(survey_id),
        organisation_id=str(organisation_id),
        revision=revision,
        questions=len(changed),
    )


async def _save_answers_locked(
    conn: Conn,
    deps: ResponsesDeps,
    survey_id: UUID,
    organisation_id: UUID,
    answers: dict[str, Any],
    version: int,
) -> ResponseOut:
    """`save_answers` under the response's row lock, for a response many save at once."""
    now = deps.now()
    async with conn.transaction():
        # One statement: the survey, the plausibility context and the response, created
        # when missing (a refused first save rolls it back) and locked, with its answers.
        context = await repo.lock_response_for_change(
            conn,
            survey_id,
            organisation_id,
            response_id=uuid.uuid4(),
            status="draft",
            now=now,
        )
        if context is None or context["questionnaire_version"] is None:
            raise NotFound(NO_SURVEY)
        survey = facts(context, survey_id, organisation_id)
        response: Row | dict[str, Any]
        stored: dict[str, StoredAnswer] | None = None
        if context["r_id"] is None:
            # Another first save inserted the response after this statement began: lock
            # it now (the insert waited for that one to commit).
            found = await repo.lock_response(conn, survey_id, organisation_id)
            assert found is not None
            response, created = found, False
        else:
            response, created = repo.response_of(context), bool(context["created"])
            if created:
                stored = {}
            elif context["answers_revision"] == response["revision"]:
                stored = stored_from_tuples(repo.answers_of(context))
            # else another save committed while this one waited for the lock: read again
        _check_editable(survey, response, now)
        questionnaire = await questionnaire_of(
            conn, deps, survey_id, response["questionnaire_version"]
        )
        if stored is None:
            stored = stored_from_rows(await repo.list_answers(conn, response["id"]))
        changed = _changes(stored, questionnaire, answers, version, response["revision"])
        if changed or created:
            revision = response["revision"] + 1
            response, written = await repo.save_answers(
                conn, response["id"], changed, revision=revision, changed_at=now
            )
            stored = {**stored, **stored_from_tuples(written)}
            _log_saved(survey_id, organisation_id, revision, changed)
        return await view(
            conn, deps, survey, organisation_id, response, stored=stored, context=context
        )


async def record_submission(
    conn: Conn,
    deps: ResponsesDeps,
    response: Row,
    questionnaire: Questionnaire,
    answers: dict[str, Any],
    *,
    explanations: dict[str, str],
    warnings: list[dict[str, Any]],
    at: datetime,
    **changes: Any,
) -> Row:
    """Inside the caller's transaction, submit the locked response's answers as its next
    submission: the history row, the response's state and `responses.response.submitted.v1`
    in the outbox. `changes` are further columns of the response to set with it. Returns
    the updated response."""
    snapshot = snapshot_answers(questionnaire, answers)
    submission = response["submission"] + 1
    await repo.insert_submission(
        conn,
        response_id=response["id"],
        submission=submission,
        questionnaire_version=response["questionnaire_version"],
        answers=snapshot,
        explanations=explanations,
        warnings=warnings,
        submitted_at=at,
    )
    response = await repo.update_response(
        conn,
        response["id"],
        status="submitted",
        submission=submission,
        submitted_at=at,
        explanations=explanations,
        updated_at=at,
        **changes,
    )
    await enqueue(
        conn,
        ResponseSubmitted(
            response_id=response["id"],
            survey_id=response["survey_id"],
            organisation_id=response["organisation_id"],
            submission=submission,
            submitted_at=at,
            questionnaire_version=response["questionnaire_version"],
            answers=snapshot,
            explanations=explanations,
        ),
        source=deps.source,
    )
    return response


async def submit(
    deps: ResponsesDeps,
    survey_id: UUID,
    organisation_id: UUID,
    explanations: dict[str, str],
) -> ResponseOut:
    """Submit the answers: complete, valid, with explanations for every warning.

    `explanations` add to (or, with "", remove) those of the previous submission.
    """
    now = deps.now()
    async with deps.transaction() as conn:
        survey = await survey_for(conn, survey_id, organisation_id)
        response, _ = await lock_or_start(conn, deps, survey, organisation_id)
        _check_editable(survey, response, now)
        questionnaire = await questionnaire_of(
            conn, deps, survey_id, response["questionnaire_version"]
        )
        answers = present_answers(stored_from_rows(await repo.list_answers(conn, response["id"])))
        # Explanations given at an earlier submission stay unless replaced ("" drops one),
        # so a response returned or reopened need not explain the same figure twice.
        explanations = {**response["explanations"], **explanations}
        errors = [
            e.as_field_error() for e in validate_answers(questionnaire, answers, complete=True)
        ]
        _, warnings = await plausibility(
            conn, deps, survey, organisation_id, questionnaire, answers
        )
        errors += explanation_errors(
            questionnaire,
            explanations,
            warnings,
            min_length=deps.settings.explanation_min_length,
        )
        if errors:
            raise InvalidInput("The response cannot be submitted yet.", errors=errors)
        explanations = {k: v.strip() for k, v in explanations.items() if v.strip()}
        response = await record_submission(
            conn,
            deps,
            response,
            questionnaire,
            answers,
            explanations=explanations,
            warnings=[w.as_dict() for w in warnings],
            at=now,
        )
        log.info(
            "response.submitted",
            survey_id=str(survey_id),
            organisation_id=str(organisation_id),
            submission=response["submission"],
        )
        return await view(conn, deps, survey, organisation_id, response)
