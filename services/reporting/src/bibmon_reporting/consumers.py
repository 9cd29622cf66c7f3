"""Event handlers of the reporting service: parse, then call services.py; no business logic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from bibmon_common.app import ServiceContext
from bibmon_common.contracts.identity import OrganisationRegistered, OrganisationUpdated
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
from bibmon_common.events import CloudEvent, Message
from bibmon_common.messaging.consumer import Consumer, Handler
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_common.projections import SESSION_HANDLERS, on_organisation_changed
from bibmon_reporting import services

QUEUE = "reporting.events"


async def on_organisation(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
    """`identity.organisation.registered/updated.v1`: the read model, then the figures of
    the surveys it counts in (its province, size class or inhabitants may have changed)."""
    assert isinstance(message, OrganisationRegistered | OrganisationUpdated)
    await on_organisation_changed(None, conn, message, envelope)
    await services.organisation_changed(conn, message.organisation_id)


async def on_survey_published(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`surveys.survey.published.v1`."""
    assert isinstance(message, SurveyPublished)
    await services.survey_published(conn, message, envelope.time)


async def on_survey_updated(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`surveys.survey.updated.v1`."""
    assert isinstance(message, SurveyUpdated)
    await services.survey_updated(conn, message, envelope.time)


async def on_questionnaire_published(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`surveys.questionnaire.published.v1`."""
    assert isinstance(message, QuestionnairePublished)
    await services.questionnaire_published(conn, message)


async def on_survey_closed(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`surveys.survey.closed.v1`."""
    assert isinstance(message, SurveyClosed)
    await services.survey_closed(conn, message)


async def on_survey_replayed(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`surveys.survey.replayed.v1` (a rebuild)."""
    assert isinstance(message, SurveyReplayed)
    await services.survey_replayed(conn, message, envelope.time)


async def on_submitted(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
    """`responses.response.submitted.v1` and `responses.submission.replayed.v1`."""
    assert isinstance(message, ResponseSubmitted | SubmissionReplayed)
    await services.response_submitted(conn, message)


async def on_returned(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
    """`responses.response.returned.v1`."""
    assert isinstance(message, ResponseReturned)
    await services.response_returned(conn, message)


# Not bound: responses.response.reopened.v1 (the earlier submission counts until the
# correction arrives as a new submitted event) and responses.response.accepted.v1
# (acceptance does not change what counts).
HANDLERS: dict[str, Handler] = {
    OrganisationRegistered.type: on_organisation,
    OrganisationUpdated.type: on_organisation,
    SurveyPublished.type: on_survey_published,
    SurveyUpdated.type: on_survey_updated,
    QuestionnairePublished.type: on_questionnaire_published,
    SurveyClosed.type: on_survey_closed,
    SurveyReplayed.type: on_survey_replayed,
    ResponseSubmitted.type: on_submitted,
    SubmissionReplayed.type: on_submitted,
    ResponseReturned.type: on_returned,
    **SESSION_HANDLERS,
}


def build(ctx: ServiceContext, *, retry_delays: Sequence[float] = (5, 60, 600)) -> list[Any]:
    """The one consumer of this service: identity's, surveys' and responses' events."""
    return [
        Consumer(
            ctx.broker,
            ctx.pool,
            queue=QUEUE,
            exchange=EVENTS_EXCHANGE,
            handlers=HANDLERS,
            retry_delays=retry_delays,
        )
    ]
