"""Review by a researcher or kb_admin: accept, return, reopen; history and progress."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import structlog

from bibmon_common.contracts.responses import ResponseAccepted, ResponseReopened, ResponseReturned
from bibmon_common.errors import Conflict, NotFound
from bibmon_common.messaging.outbox import enqueue
from bibmon_responses import repository as repo
from bibmon_responses.deps import ResponsesDeps
from bibmon_responses.domain import STATUSES, Status, SurveyFacts
from bibmon_responses.models import (
    HistoryOut,
    ProgressEntry,
    ProgressOut,
    ResponseOut,
    SubmissionOut,
)
from bibmon_responses.repository import Conn, Row
from bibmon_responses.usecases.editing import lock_or_start
from bibmon_responses.usecases.viewing import survey_for, view

log = structlog.get_logger(__name__)


async def _locked_response(
    conn: Conn, survey_id: UUID, organisation_id: UUID
) -> tuple[SurveyFacts, Row | None]:
    survey = await survey_for(conn, survey_id, organisation_id)
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
    deps: ResponsesDeps,
    survey_id: UUID,
    organisation_id: UUID,
    *,
    review: Literal["accepted", "returned"],
    remark: str | None,
) -> ResponseOut:
    """Record a researcher's review of the submitted response and announce it."""
    now = deps.now()
    async with deps.transaction() as conn:
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
        about = {"survey_id": survey_id, "organisation_id": organisation_id}
        event: ResponseAccepted | ResponseReturned
        if review == "accepted":
            response = await repo.update_response(
                conn, response["id"], status="accepted", correction_open=False, updated_at=now
            )
            event = ResponseAccepted(
                response_id=response["id"],
                submission=response["submission"],
                accepted_at=now,
                **about,
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
                **about,
            )
        await enqueue(conn, event, source=deps.source)
        log.info(
            f"response.{review}",
            survey_id=str(survey_id),
            organisation_id=str(organisation_id),
            submission=response["submission"],
        )
        return await view(conn, deps, survey, organisation_id, response)


async def accept(deps: ResponsesDeps, survey_id: UUID, organisation_id: UUID) -> ResponseOut:
    """Accept the submitted response; a granted correction ends here."""
    return await _review(deps, survey_id, organisation_id, review="accepted", remark=None)


async def return_response(
    deps: ResponsesDeps, survey_id: UUID, organisation_id: UUID, remark: str
) -> ResponseOut:
    """Send the submitted response back to the organisation with a remark.

    Returning always opens a correction (the flag a reopen sets), so the organisation can
    do what the "please correct" e-mail asks, edit and submit again, also when the
    deadline passes before it gets to it. `accept` ends the correction.
    """
    return await _review(deps, survey_id, organisation_id, review="returned", remark=remark)


async def reopen(
    deps: ResponsesDeps, survey_id: UUID, organisation_id: UUID, reason: str
) -> ResponseOut:
    """After the survey closed, let the organisation correct and submit once more."""
    now = deps.now()
    async with deps.transaction() as conn:
        survey = await survey_for(conn, survey_id, organisation_id)
        if not survey.is_closed(now):
            raise Conflict(
                "The survey is still open: the organisation can change its response itself "
                "(return a submitted response instead).",
                type_="survey-open",
            )
        # An organisation that missed the deadline may get a response of its own.
        response, _ = await lock_or_start(conn, deps, survey, organisation_id, status="reopened")
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
            source=deps.source,
        )
        log.info(
            "response.reopened", survey_id=str(survey_id), organisation_id=str(organisation_id)
        )
        return await view(conn, deps, survey, organisation_id, response)


async def history(deps: ResponsesDeps, survey_id: UUID, organisation_id: UUID) -> HistoryOut:
    """Every submitted version of the organisation's response, oldest first."""
    async with (
        deps.connection() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        await survey_for(conn, survey_id, organisation_id)
        response = await repo.get_response(conn, survey_id, organisation_id)
        rows = await repo.list_submissions(conn, response["id"]) if response else []
    return HistoryOut(
        survey_id=survey_id,
        organisation_id=organisation_id,
        items=[SubmissionOut.model_validate(dict(r)) for r in rows],
    )


async def progress(deps: ResponsesDeps, survey_id: UUID) -> ProgressOut:
    """Where every participating organisation stands."""
    async with (
        deps.connection() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        survey = await repo.get_published_survey(conn, survey_id)
        if survey is None:
            raise NotFound("No such survey.")
        rows = {r["organisation_id"]: r for r in await repo.list_responses(conn, survey_id)}
    counts: dict[Status, int] = dict.fromkeys(STATUSES, 0)
    organisations = []
    for organisation_id in survey["participants"]:
        row = rows.get(organisation_id)
        status: Status = row["status"] if row else "not_started"
        counts[status] += 1
        organisations.append(
            ProgressEntry(
                organisation_id=organisation_id,
                status=status,
                submission=row["submission"] if row else 0,
                submitted_at=row["submitted_at"] if row else None,
                updated_at=row["updated_at"] if row else None,
            )
        )
    return ProgressOut(
        survey_id=survey_id,
        total=len(organisations),
        counts=counts,
        organisations=organisations,
    )
