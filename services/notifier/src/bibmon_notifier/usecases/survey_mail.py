"""Survey e-mails: invitation, reminders, receipt, returned-for-correction.

The notifier keeps a small read model of surveys (facts, participants, who has
submitted) from surveys' and responses' events and turns them into e-mail jobs. A job
names its recipient by reference only (survey, organisation); the sender asks identity
for the current contact person at send time (`delivery.py`, `recipients.py`). One job per
idempotency key, so a redelivered event or a second scheduler never sends twice:

    invitation:{survey}:{organisation}        receipt:{response}:{submission}
    returned:{response}:{submission}
    reminder:{survey}:{organisation}:{days}:{closes_at as epoch seconds}
    report_ready:{survey}:{organisation}

The deadline is part of a reminder's key, so a moved deadline gets its own reminders —
but only for the moments after the move (`survey.deadline_set_at`): a reminder moment of
the new deadline that had already passed when the move arrived is never sent.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from bibmon_common.contracts.reporting import ReportReady
from bibmon_common.contracts.responses import (
    ResponseAccepted,
    ResponseReopened,
    ResponseReturned,
    ResponseSubmitted,
)
from bibmon_common.contracts.surveys import SurveyClosed, SurveyPublished, SurveyUpdated
from bibmon_notifier import repository
from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.deps import NotifierDeps
from bibmon_notifier.models import DueEmail
from bibmon_notifier.repository import Conn

log = structlog.get_logger(__name__)

DAY = timedelta(days=1)


class SurveyNotKnown(Exception):
    """A response event arrived before its survey's published event: retry it later."""


def survey_url(settings: NotifierSettings, survey_id: UUID) -> str:
    """The survey's page in the web client."""
    return f"{settings.public_base_url.rstrip('/')}/vragenlijsten/{survey_id}"


def report_url(settings: NotifierSettings, survey_id: UUID) -> str:
    """The page of the organisation's report and infographic in the web client."""
    return f"{settings.public_base_url.rstrip('/')}/rapporten/{survey_id}"


def _facts(event: SurveyPublished | SurveyUpdated) -> dict[str, Any]:
    return {
        "survey_id": event.survey_id,
        "title": event.title,
        "description": event.description,
        "mandatory": event.mandatory,
        "legal_basis": event.legal_basis,
        "legal_basis_name": event.legal_basis_name if event.legal_basis == "subsidy" else None,
        "opens_at": event.opens_at,
        "closes_at": event.closes_at,
    }


def _legal(survey: Mapping[str, Any] | asyncpg.Record) -> dict[str, Any]:
    return {
        "mandatory": survey["mandatory"],
        "legal_basis": survey["legal_basis"],
        "legal_basis_name": survey["legal_basis_name"],
    }


async def _create_job(
    deps: NotifierDeps,
    conn: Conn,
    *,
    key: str,
    template: str,
    survey_id: UUID,
    organisation_id: UUID,
    context: dict[str, Any],
) -> bool:
    inserted = await repository.insert_job(
        conn,
        id=uuid.uuid4(),
        idempotency_key=key,
        template=template,
        # Replaced by the contact person's language when identity answers.
        locale=deps.settings.default_locale,
        recipient_email=None,
        recipient_name=None,
        subject_user_id=None,
        context=context,
        status="pending",
        expires_at=None,
        recipient_survey_id=survey_id,
        recipient_organisation_id=organisation_id,
    )
    if inserted:
        await repository.notify_new_job(conn)
    return inserted


async def survey_published(
    deps: NotifierDeps, conn: Conn, event: SurveyPublished, *, at: datetime
) -> int:
    """Record the survey and invite every participating organisation's contact person."""
    now = deps.now()
    facts = _facts(event)
    await repository.upsert_survey(conn, facts, now=now, facts_at=at)
    participants = list(dict.fromkeys(event.participants))
    await repository.add_participants(conn, event.survey_id, participants)
    if event.closes_at <= now:
        log.info("survey.published_after_close", survey_id=str(event.survey_id))
        return 0
    context = {
        "survey_title": event.title,
        "survey_description": event.description,
        "opens_at": event.opens_at.isoformat(),
        "closes_at": event.closes_at.isoformat(),
        "survey_url": survey_url(deps.settings, event.survey_id),
        **_legal(facts),
    }
    created = 0
    for organisation_id in participants:
        created += await _create_job(
            deps,
            conn,
            key=f"invitation:{event.survey_id}:{organisation_id}",
            template="survey_invitation",
            survey_id=event.survey_id,
            organisation_id=organisation_id,
            context=context,
        )
    log.info("survey.invitations", survey_id=str(event.survey_id), created=created)
    return created


async def survey_updated(
    deps: NotifierDeps, conn: Conn, event: SurveyUpdated, *, at: datetime
) -> None:
    """New title, description or deadline: later e-mails use them.

    A moved deadline is stamped with the notifier's clock (`deadline_set_at`), like
    `invited_at`: its reminders come only for the moments after now, so even a nudge of
    an hour sends no second copy of the reminder just sent.
    """
    await repository.upsert_survey(conn, _facts(event), now=deps.now(), facts_at=at)
    await repository.add_participants(conn, event.survey_id, list(event.participants))
    log.info("survey.updated", survey_id=str(event.survey_id))


async def survey_closed(deps: NotifierDeps, conn: Conn, event: SurveyClosed) -> None:
    """No reminders after this; pending invitations and reminders are not sent.

    A close that overtakes its survey's publication (several relays) is retried until
    the survey is known, so it is never lost.
    """
    await _known_survey(conn, event.survey_id)
    await repository.close_survey(conn, event.survey_id, event.closed_at)
    log.info("survey.closed", survey_id=str(event.survey_id))


async def _known_survey(conn: Conn, survey_id: UUID) -> asyncpg.Record:
    survey = await repository.get_survey(conn, survey_id)
    if survey is None:
        # Events of different producers may overtake each other; the consumer retries.
        raise SurveyNotKnown(f"survey {survey_id} not known yet")
    return survey


async def response_submitted(deps: NotifierDeps, conn: Conn, event: ResponseSubmitted) -> None:
    """The organisation submitted: no more reminders; a receipt to the contact person.

    No receipt for a submission older than `receipt_max_age_hours` (a late replay or
    seeded demo data): a receipt months after the fact confuses more than it confirms.
    """
    survey = await _known_survey(conn, event.survey_id)
    await repository.set_submitted(
        conn, event.survey_id, event.organisation_id, submitted=True, at=event.submitted_at
    )
    if deps.now() - event.submitted_at > timedelta(hours=deps.settings.receipt_max_age_hours):
        log.info(
            "receipt.skipped_stale",
            survey_id=str(event.survey_id),
            organisation_id=str(event.organisation_id),
            submission=event.submission,
        )
        return
    await _create_job(
        deps,
        conn,
        key=f"receipt:{event.response_id}:{event.submission}",
        template="response_receipt",
        survey_id=event.survey_id,
        organisation_id=event.organisation_id,
        context={
            "survey_title": survey["title"],
            "submitted_at": event.submitted_at.isoformat(),
            "survey_url": survey_url(deps.settings, event.survey_id),
        },
    )


async def response_returned(deps: NotifierDeps, conn: Conn, event: ResponseReturned) -> None:
    """Returned for correction: not submitted any more; the remark goes to the contact."""
    survey = await _known_survey(conn, event.survey_id)
    await repository.set_submitted(
        conn, event.survey_id, event.organisation_id, submitted=False, at=event.returned_at
    )
    await _create_job(
        deps,
        conn,
        key=f"returned:{event.response_id}:{event.submission}",
        template="response_returned",
        survey_id=event.survey_id,
        organisation_id=event.organisation_id,
        context={
            "survey_title": survey["title"],
            "remark": event.remark,
            "survey_url": survey_url(deps.settings, event.survey_id),
        },
    )


async def response_reopened(deps: NotifierDeps, conn: Conn, event: ResponseReopened) -> None:
    """Reopened for a correction: counts as not submitted again (reminders resume)."""
    await _known_survey(conn, event.survey_id)
    await repository.set_submitted(
        conn, event.survey_id, event.organisation_id, submitted=False, at=event.reopened_at
    )


async def response_accepted(deps: NotifierDeps, conn: Conn, event: ResponseAccepted) -> None:
    """Accepted after review: submitted for good."""
    await _known_survey(conn, event.survey_id)
    await repository.set_submitted(
        conn, event.survey_id, event.organisation_id, submitted=True, at=event.accepted_at
    )


async def report_ready(deps: NotifierDeps, conn: Conn, event: ReportReady) -> None:
    """The organisation's report and infographic are ready: tell its contact person, once."""
    survey = await _known_survey(conn, event.survey_id)
    await _create_job(
        deps,
        conn,
        key=f"report_ready:{event.survey_id}:{event.organisation_id}",
        template="report_ready",
        survey_id=event.survey_id,
        organisation_id=event.organisation_id,
        context={
            "survey_title": survey["title"],
            "report_url": report_url(deps.settings, event.survey_id),
        },
    )


async def schedule_reminders(deps: NotifierDeps) -> int:
    """One scheduler tick: create the reminder jobs due now; returns how many were new.

    The rule (which reminder is due) is `repository.due_reminders`. Everything is derived
    from the database each tick and each job is committed on its own, so a crash half-way
    loses nothing and repeats nothing: the next tick (of this or another replica) finds
    the ones still missing, and the unique idempotency key settles a race between two.
    """
    settings = deps.settings
    offsets = list(settings.reminder_offsets_days)
    if not offsets:
        return 0
    now = deps.now()
    created = 0
    async with deps.connection() as conn:
        for row in await repository.due_reminders(conn, now, offsets):
            left = max(1, math.ceil((row["closes_at"] - now) / DAY))
            async with conn.transaction():
                created += await _create_job(
                    deps,
                    conn,
                    key=row["idempotency_key"],
                    template="survey_reminder",
                    survey_id=row["survey_id"],
                    organisation_id=row["organisation_id"],
                    context={
                        "survey_title": row["title"],
                        "closes_at": row["closes_at"].isoformat(),
                        "days_left": left,
                        "survey_url": survey_url(settings, row["survey_id"]),
                        **_legal(row),
                    },
                )
    if created:
        log.info("reminders.scheduled", created=created)
    return created


async def still_wanted(conn: Conn, email: DueEmail, now: datetime) -> str | None:
    """Why an invitation or reminder should no longer go out, or None to send it."""
    if email.template not in ("survey_invitation", "survey_reminder"):
        return None
    if email.survey_id is None or email.organisation_id is None:
        return None
    survey = await repository.get_survey(conn, email.survey_id)
    if survey is None:
        return None
    if survey["closed_at"] is not None or survey["closes_at"] <= now:
        return "the survey closed before it could be delivered"
    if email.template == "survey_reminder" and await repository.has_submitted(
        conn, email.survey_id, email.organisation_id
    ):
        return "the organisation submitted before the reminder could be delivered"
    return None
