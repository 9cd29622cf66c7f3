"""Use cases of the responses service; the only place a transaction is opened.

HTTP routes and event handlers both call these functions. Library staff act on their
own organisation only; a survey that is unknown, not published, or one the organisation
does not take part in answers 404, so existence does not leak (ASVS 8.2.2).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import structlog
from pydantic import TypeAdapter

from bibmon_common.clock import Clock
from bibmon_common.contracts.responses import (
    ResponseAccepted,
    ResponseReopened,
    ResponseReturned,
    ResponseSubmitted,
    SubmissionReplayed,
)
from bibmon_common.contracts.surveys import (
    QuestionnairePublished,
    SurveyClosed,
    SurveyPublished,
    SurveyUpdated,
)
from bibmon_common.errors import Conflict, InvalidInput, NotFound
from bibmon_common.messaging.outbox import enqueue
from bibmon_common.questionnaire import Questionnaire, validate_answers
from bibmon_responses import repository as repo
from bibmon_responses.config import ResponsesSettings
from bibmon_responses.domain import (
    EDITABLE,
    STATUSES,
    PlausibilityWarning,
    Status,
    StoredAnswer,
    SurveyFacts,
    changed_keys,
    explanation_errors,
    find_conflicts,
    plausibility_warnings,
    present_answers,
    snapshot_answers,
    window_problem,
)
from bibmon_responses.repository import Conn, Row

log = structlog.get_logger(__name__)

SOURCE = "bibmon-responses"
_TIME = TypeAdapter(datetime)


def _json_time(value: datetime) -> Any:
    """A time as the API writes it elsewhere (pydantic's JSON form), for problem bodies."""
    return _TIME.dump_python(value, mode="json")


@dataclass(frozen=True)
class Runtime:
    """What every use case needs besides a connection: settings and the clock."""

    settings: ResponsesSettings
    clock: Clock


# --- surveys read model (called by consumers.py inside the consumer's transaction) --------


async def record_survey_published(conn: Conn, message: SurveyPublished, at: datetime) -> None:
    """Keep the survey's facts and its first questionnaire version."""
    await record_survey_updated(conn, message, at)
    await record_questionnaire_published(conn, message)


async def record_survey_updated(
    conn: Conn, message: SurveyPublished | SurveyUpdated, at: datetime
) -> None:
    """The survey's facts, also of a publication (a deadline moved; an update that overtook
    the publication is kept too)."""
    await repo.upsert_survey(
        conn,
        survey_id=message.survey_id,
        series_key=message.series_key,
        opens_at=message.opens_at,
        closes_at=message.closes_at,
        participants=message.participants,
        source_time=at,
    )


async def record_questionnaire_published(
    conn: Conn, message: SurveyPublished | QuestionnairePublished
) -> None:
    """Keep a questionnaire version; responses already started stay on theirs."""
    await repo.insert_questionnaire_version(
        conn,
        message.survey_id,
        message.questionnaire_version,
        message.questionnaire.model_dump(mode="json"),
    )


async def record_survey_closed(conn: Conn, message: SurveyClosed) -> None:
    """From now on only reopened responses may be saved or submitted."""
    await repo.mark_survey_closed(conn, message.survey_id, message.closed_at)


# --- reading ----------------------------------------------------------------------------

_questionnaires: dict[tuple[UUID, int], Questionnaire] = {}


async def _questionnaire(conn: Conn, survey_id: UUID, version: int) -> Questionnaire:
    # A published version never changes, so parsing it once per process is enough.
    key = (survey_id, version)
    if key not in _questionnaires:
        raw = await repo.get_questionnaire(conn, survey_id, version)
        if raw is None:
            raise NotFound("This questionnaire version is unknown.")
        _questionnaires[key] = Questionnaire.model_validate(raw)
    return _questionnaires[key]


def _facts(row: Row, survey_id: UUID, organisation_id: UUID) -> SurveyFacts:
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


_NO_SURVEY = "No such survey for this organisation."


async def _survey(conn: Conn, survey_id: UUID, organisation_id: UUID) -> SurveyFacts:
    row = await repo.get_survey_for(conn, survey_id, organisation_id)
    if row is None:
        raise NotFound(_NO_SURVEY)
    return _facts(row, survey_id, organisation_id)


async def _published_survey(conn: Conn, survey_id: UUID) -> Row:
    row = await repo.get_published_survey(conn, survey_id)
    if row is None:
        raise NotFound("No such survey.")
    return row


def _stored(rows: list[Row]) -> dict[str, StoredAnswer]:
    return {r["question"]: StoredAnswer(r["value"], r["revision"], r["changed_at"]) for r in rows}


def _stored_from(answers: list[tuple[str, Any, int, datetime]]) -> dict[str, StoredAnswer]:
    return {q: StoredAnswer(value, revision, at) for q, value, revision, at in answers}


async def _plausibility(
    conn: Conn,
    rt: Runtime,
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
    return previous, _warnings(rt, questionnaire, answers, previous, national)


def _warnings(
    rt: Runtime,
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
        ratio=rt.settings.plausibility_ratio,
        range_factor=rt.settings.national_range_factor,
    )


async def _plausibility_in(
    conn: Conn,
    rt: Runtime,
    context: Row,
    questionnaire: Questionnaire,
    answers: dict[str, Any],
) -> tuple[dict[str, Any], list[PlausibilityWarning]]:
    """As `_plausibility`, from what `repo.read_response`/`lock_response_for_change`
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
    return previous, _warnings(rt, questionnaire, answers, previous, national)


async def _view(
    conn: Conn,
    rt: Runtime,
    survey: SurveyFacts,
    organisation_id: UUID,
    response: Row | dict[str, Any] | None,
    *,
    stored: dict[str, StoredAnswer] | None = None,
    context: Row | None = None,
) -> dict[str, Any]:
    """The response as the API shows it. `stored` (the answers) and `context` (a row of
    `repo.read_response`/`lock_response_for_change`) save the statements that load them."""
    version = response["questionnaire_version"] if response else survey.questionnaire_version
    questionnaire = await _questionnaire(conn, survey.id, version)
    if stored is None:
        stored = _stored(await repo.list_answers(conn, response["id"])) if response else {}
    answers = present_answers(stored)
    if context is not None:
        previous, warnings = await _plausibility_in(conn, rt, context, questionnaire, answers)
    else:
        previous, warnings = await _plausibility(
            conn, rt, survey, organisation_id, questionnaire, answers
        )
    status = response["status"] if response else "not_started"
    correction_open = bool(response and response["correction_open"])
    can_edit = (
        status in EDITABLE
        and window_problem(survey, rt.clock.now(), correction_open=correction_open) is None
    )
    return {
        "survey_id": survey.id,
        "organisation_id": organisation_id,
        "status": status,
        "version": response["revision"] if response else 0,
        "questionnaire_version": version,
        "answers": answers,
        "changed_at": {k: a.changed_at for k, a in stored.items()},
        "submitted_at": response["submitted_at"] if response else None,
        "submission": response["submission"] if response else 0,
        "remark": response["remark"] if response else None,
        "reopen_reason": response["reopen_reason"] if response else None,
        "explanations": dict(response["explanations"]) if response else {},
        "warnings": [w.as_dict() for w in warnings],
        "previous_answers": previous,
        "can_edit": can_edit,
        "can_submit": can_edit and not validate_answers(questionnaire, answers, complete=True),
        "updated_at": response["updated_at"] if response else None,
    }


async def get_response(
    conn: Conn, rt: Runtime, survey_id: UUID, organisation_id: UUID
) -> dict[str, Any]:
    """The organisation's response as its staff (or a reviewer) sees it.

    One statement (so one snapshot) reads the survey, the response, its answers and the
    plausibility context; a stale national range is recomputed once (and kept).
    """
    row = await repo.read_response(conn, survey_id, organisation_id)
    if row is None or row["questionnaire_version"] is None:
        raise NotFound(_NO_SURVEY)
    survey = _facts(row, survey_id, organisation_id)
    response = repo.response_of(row) if row["r_id"] is not None else None
    stored = _stored_from(repo.answers_of(row))
    return await _view(conn, rt, survey, organisation_id, response, stored=stored, context=row)


# --- the organisation's changes ------------------------------------------------------------


async def _lock(
    conn: Conn, rt: Runtime, survey: SurveyFacts, organisation_id: UUID, status: str = "draft"
) -> tuple[Row, bool]:
    return await repo.lock_or_create_response(
        conn,
        response_id=uuid.uuid4(),
        survey_id=survey.id,
        organisation_id=organisation_id,
        # Starting pins the response to the questionnaire as it is now.
        questionnaire_version=survey.questionnaire_version,
        status=status,
        now=rt.clock.now(),
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


# Optimistic saves of one response racing each other retry this often, then take the lock.
_OPTIMISTIC_TRIES = 3


async def save_answers(
    conn: Conn,
    rt: Runtime,
    survey_id: UUID,
    organisation_id: UUID,
    answers: dict[str, Any],
    version: int,
) -> dict[str, Any]:
    """Save some answers (null clears one); merge with saves made since `version`.

    Optimistic, like the edit itself: one statement reads the survey, the response, its
    answers and the plausibility context (one snapshot); one statement writes, only if the
    response row is still the version read. When something changed in between, read
    again; after a few such races, save under the row lock (`_save_answers_locked`).
    Either way the outcome is that of saves made one after the other.
    """
    for _ in range(_OPTIMISTIC_TRIES):
        now = rt.clock.now()
        context = await repo.read_response(conn, survey_id, organisation_id)
        if context is None or context["questionnaire_version"] is None:
            raise NotFound(_NO_SURVEY)
        survey = _facts(context, survey_id, organisation_id)
        created = context["r_id"] is None
        # Starting pins the response to the questionnaire as it is now.
        response = (
            repo.response_of(context)
            if not created
            else {
                "id": uuid.uuid4(),
                "survey_id": survey_id,
                "organisation_id": organisation_id,
                "status": "draft",
                "revision": 0,
                "questionnaire_version": survey.questionnaire_version,
                "submission": 0,
                "submitted_at": None,
                "explanations": {},
                "remark": None,
                "correction_open": False,
                "reopen_reason": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        stored = _stored_from(repo.answers_of(context))
        _check_editable(survey, response, now)
        questionnaire = await _questionnaire(conn, survey_id, response["questionnaire_version"])
        changed = _changes(stored, questionnaire, answers, version, response["revision"])
        if not (changed or created):
            return await _view(
                conn, rt, survey, organisation_id, response, stored=stored, context=context
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
            continue  # changed since it was read: read again
        response, written = saved
        _log_saved(survey_id, organisation_id, revision, changed)
        return await _view(
            conn,
            rt,
            survey,
            organisation_id,
            response,
            stored={**stored, **_stored_from(written)},
            context=context,
        )
    return await _save_answers_locked(conn, rt, survey_id, organisation_id, answers, version)


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
    rt: Runtime,
    survey_id: UUID,
    organisation_id: UUID,
    answers: dict[str, Any],
    version: int,
) -> dict[str, Any]:
    """`save_answers` under the response's row lock, for a response many save at once."""
    now = rt.clock.now()
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
            raise NotFound(_NO_SURVEY)
        survey = _facts(context, survey_id, organisation_id)
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
                stored = _stored_from(repo.answers_of(context))
            # else another save committed while this one waited for the lock: read again
        _check_editable(survey, response, now)
        questionnaire = await _questionnaire(conn, survey_id, response["questionnaire_version"])
        if stored is None:
            stored = _stored(await repo.list_answers(conn, response["id"]))
        changed = _changes(stored, questionnaire, answers, version, response["revision"])
        if changed or created:
            revision = response["revision"] + 1
            response, written = await repo.save_answers(
                conn, response["id"], changed, revision=revision, changed_at=now
            )
            stored = {**stored, **_stored_from(written)}
            _log_saved(survey_id, organisation_id, revision, changed)
        return await _view(
            conn, rt, survey, organisation_id, response, stored=stored, context=context
        )


async def record_submission(
    conn: Conn,
    response: Row,
    questionnaire: Questionnaire,
    answers: dict[str, Any],
    *,
    explanations: dict[str, str],
    warnings: list[dict[str, Any]],
    at: datetime,
    **changes: Any,
) -> Row:
    """Submit the locked response's answers as its next submission: the history row, the
    response's state and `responses.response.submitted.v1` in the outbox. `changes` are
    further columns of the response to set with it. Returns the updated response."""
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
        source=SOURCE,
    )
    return response


async def submit(
    conn: Conn,
    rt: Runtime,
    survey_id: UUID,
    organisation_id: UUID,
    explanations: dict[str, str],
) -> dict[str, Any]:
    """Submit the answers: complete, valid, with explanations for every warning.

    `explanations` add to (or, with "", remove) those of the previous submission.
    """
    now = rt.clock.now()
    async with conn.transaction():
        survey = await _survey(conn, survey_id, organisation_id)
        response, _ = await _lock(conn, rt, survey, organisation_id)
        _check_editable(survey, response, now)
        questionnaire = await _questionnaire(conn, survey_id, response["questionnaire_version"])
        answers = present_answers(_stored(await repo.list_answers(conn, response["id"])))
        # Explanations given at an earlier submission stay unless replaced ("" drops one),
        # so a response returned or reopened need not explain the same figure twice.
        explanations = {**response["explanations"], **explanations}
        errors = [
            e.as_field_error() for e in validate_answers(questionnaire, answers, complete=True)
        ]
        _, warnings = await _plausibility(conn, rt, survey, organisation_id, questionnaire, answers)
        errors += explanation_errors(
            questionnaire,
            explanations,
            warnings,
            min_length=rt.settings.explanation_min_length,
        )
        if errors:
            raise InvalidInput("The response cannot be submitted yet.", errors=errors)
        explanations = {k: v.strip() for k, v in explanations.items() if v.strip()}
        response = await record_submission(
            conn,
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
        return await _view(conn, rt, survey, organisation_id, response)


# --- review by a researcher or kb_admin -----------------------------------------------------


async def _locked_response(
    conn: Conn, survey_id: UUID, organisation_id: UUID
) -> tuple[SurveyFacts, Row | None]:
    survey = await _survey(conn, survey_id, organisation_id)
    return survey, await repo.lock_response(conn, survey_id, organisation_id)


def _require_submitted(response: Row | None, action: str) -> Row:
    status = response["status"] if response else "not_started"
    if response is None or status != "submitted":
        raise Conflict(
            f"Only a submitted response can be {action}; this one is {status}.",
            type_="response-not-submitted",
        )
    return response


async def _review(
    conn: Conn,
    rt: Runtime,
    survey_id: UUID,
    organisation_id: UUID,
    *,
    review: Literal["accepted", "returned"],
    remark: str | None,
) -> dict[str, Any]:
    """Record a researcher's review of the submitted response and announce it."""
    now = rt.clock.now()
    async with conn.transaction():
        survey, found = await _locked_response(conn, survey_id, organisation_id)
        response = _require_submitted(found, review)
        await repo.review_submission(
            conn,
            response["id"],
            response["submission"],
            review=review,
            reviewed_at=now,
            remark=remark,
        )
        facts = {"survey_id": survey_id, "organisation_id": organisation_id}
        event: ResponseAccepted | ResponseReturned
        if review == "accepted":
            response = await repo.update_response(
                conn, response["id"], status="accepted", correction_open=False, updated_at=now
            )
            event = ResponseAccepted(
                response_id=response["id"],
                submission=response["submission"],
                accepted_at=now,
                **facts,
            )
        else:
            assert remark is not None
            response = await repo.update_response(
                conn,
                response["id"],
                status="returned",
                remark=remark,
                correction_open=True,
                updated_at=now,
            )
            event = ResponseReturned(
                response_id=response["id"],
                submission=response["submission"],
                remark=remark,
                returned_at=now,
                **facts,
            )
        await enqueue(conn, event, source=SOURCE)
        log.info(
            f"response.{review}",
            survey_id=str(survey_id),
            organisation_id=str(organisation_id),
            submission=response["submission"],
        )
        return await _view(conn, rt, survey, organisation_id, response)


async def accept(conn: Conn, rt: Runtime, survey_id: UUID, organisation_id: UUID) -> dict[str, Any]:
    """Accept the submitted response; a granted correction ends here."""
    return await _review(conn, rt, survey_id, organisation_id, review="accepted", remark=None)


async def return_response(
    conn: Conn, rt: Runtime, survey_id: UUID, organisation_id: UUID, remark: str
) -> dict[str, Any]:
    """Send the submitted response back to the organisation with a remark.

    Returning always opens a correction (the flag a reopen sets), so the organisation can
    do what the "please correct" e-mail asks, edit and submit again, also when the
    deadline passes before it gets to it. `accept` ends the correction.
    """
    return await _review(conn, rt, survey_id, organisation_id, review="returned", remark=remark)


async def reopen(
    conn: Conn, rt: Runtime, survey_id: UUID, organisation_id: UUID, reason: str
) -> dict[str, Any]:
    """After the survey closed, let the organisation correct and submit once more."""
    now = rt.clock.now()
    async with conn.transaction():
        survey = await _survey(conn, survey_id, organisation_id)
        if not survey.is_closed(now):
            raise Conflict(
                "The survey is still open: the organisation can change its response itself "
                "(return a submitted response instead).",
                type_="survey-open",
            )
        # An organisation that missed the deadline may get a response of its own.
        response, _ = await _lock(conn, rt, survey, organisation_id, status="reopened")
        if response["status"] == "reopened" and response["correction_open"]:
            raise Conflict("The response is already reopened.", type_="response-reopened")
        response = await repo.update_response(
            conn,
            response["id"],
            status="reopened",
            correction_open=True,
            reopen_reason=reason,
            updated_at=now,
        )
        await enqueue(
            conn,
            ResponseReopened(
                response_id=response["id"],
                survey_id=survey_id,
                organisation_id=organisation_id,
                reason=reason,
                reopened_at=now,
            ),
            source=SOURCE,
        )
        log.info(
            "response.reopened", survey_id=str(survey_id), organisation_id=str(organisation_id)
        )
        return await _view(conn, rt, survey, organisation_id, response)


async def history(conn: Conn, survey_id: UUID, organisation_id: UUID) -> dict[str, Any]:
    """Every submitted version of the organisation's response, oldest first."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await _survey(conn, survey_id, organisation_id)
        response = await repo.get_response(conn, survey_id, organisation_id)
        rows = await repo.list_submissions(conn, response["id"]) if response else []
    return {
        "survey_id": survey_id,
        "organisation_id": organisation_id,
        "items": [dict(r) for r in rows],
    }


async def progress(conn: Conn, survey_id: UUID) -> dict[str, Any]:
    """Where every participating organisation stands."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        survey = await _published_survey(conn, survey_id)
        rows = {r["organisation_id"]: r for r in await repo.list_responses(conn, survey_id)}
    counts = dict.fromkeys(STATUSES, 0)
    organisations = []
    for organisation_id in survey["participants"]:
        row = rows.get(organisation_id)
        status: Status = row["status"] if row else "not_started"
        counts[status] += 1
        organisations.append(
            {
                "organisation_id": organisation_id,
                "status": status,
                "submission": row["submission"] if row else 0,
                "submitted_at": row["submitted_at"] if row else None,
                "updated_at": row["updated_at"] if row else None,
            }
        )
    return {
        "survey_id": survey_id,
        "total": len(organisations),
        "counts": counts,
        "organisations": organisations,
    }


# --- replay for reporting's rebuild ----------------------------------------------------------


async def replay_counted_submissions(conn: Conn, replay_id: UUID) -> int:
    """Re-publish every counted submission as `responses.submission.replayed.v1`.

    Runs in the consumer's transaction, so the replay is in the outbox once or not at all.
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
            source=SOURCE,
        )
    log.info("replay.submissions", replay_id=str(replay_id), count=len(rows))
    return len(rows)
