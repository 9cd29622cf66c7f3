"""Event handlers of the reporting service: each takes its typed message and calls a use case.

No business logic here (`usecases.read_models` decides). Handlers run in the consumer's
transaction, with the inbox row.
"""

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
from bibmon_common.events import CloudEvent
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.handlers import Route, on
from bibmon_common.projections import SESSION_ROUTES, on_organisation_changed
from bibmon_reporting.deps import ReportingDeps
from bibmon_reporting.usecases import read_models

QUEUE = "reporting.events"


async def on_organisation(
    deps: ReportingDeps,
    conn: asyncpg.Connection,
    message: OrganisationRegistered | OrganisationUpdated,
    envelope: CloudEvent,
) -> None:
    """`identity.organisation.registered/updated.v1`: the read model, then the figures of
    the surveys it counts in (its province, size class or inhabitants may have changed)."""
    await on_organisation_changed(deps, conn, message, envelope)
    await read_models.organisation_changed(deps, conn, message.organisation_id)


async def on_survey_published(
    deps: ReportingDeps, conn: asyncpg.Connection, message: SurveyPublished, envelope: CloudEvent
) -> None:
    """`surveys.survey.published.v1`."""
    await read_models.survey_published(deps, conn, message, envelope.time)


async def on_survey_updated(
    deps: ReportingDeps, conn: asyncpg.Connection, message: SurveyUpdated, envelope: CloudEvent
) -> None:
    """`surveys.survey.updated.v1`."""
    await read_models.survey_updated(deps, conn, message, envelope.time)


async def on_questionnaire_published(
    deps: ReportingDeps,
    conn: asyncpg.Connection,
    message: QuestionnairePublished,
    envelope: CloudEvent,
) -> None:
    """`surveys.questionnaire.published.v1`."""
    await read_models.questionnaire_published(deps, conn, message)


async def on_survey_closed(
    deps: ReportingDeps, conn: asyncpg.Connection, message: SurveyClosed, envelope: CloudEvent
) -> None:
    """`surveys.survey.closed.v1`."""
    await read_models.survey_closed(deps, conn, message)


async def on_survey_replayed(
    deps: ReportingDeps, conn: asyncpg.Connection, message: SurveyReplayed, envelope: CloudEvent
) -> None:
    """`surveys.survey.replayed.v1` (a rebuild)."""
    await read_models.survey_replayed(deps, conn, message, envelope.time)


async def on_submitted(
    deps: ReportingDeps,
    conn: asyncpg.Connection,
    message: ResponseSubmitted | SubmissionReplayed,
    envelope: CloudEvent,
) -> None:
    """`responses.response.submitted.v1` and `responses.submission.replayed.v1`."""
    await read_models.response_submitted(deps, conn, message)


async def on_returned(
    deps: ReportingDeps, conn: asyncpg.Connection, message: ResponseReturned, envelope: CloudEvent
) -> None:
    """`responses.response.returned.v1`."""
    await read_models.response_returned(deps, conn, message)


# Not bound: responses.response.reopened.v1 (the earlier submission counts until the
# correction arrives as a new submitted event) and responses.response.accepted.v1
# (acceptance does not change what counts). The kernel's session routes take any deps.
ROUTES: list[Route[Any, Any]] = [
    on(OrganisationRegistered, on_organisation),
    on(OrganisationUpdated, on_organisation),
    on(SurveyPublished, on_survey_published),
    on(SurveyUpdated, on_survey_updated),
    on(QuestionnairePublished, on_questionnaire_published),
    on(SurveyClosed, on_survey_closed),
    on(SurveyReplayed, on_survey_replayed),
    on(ResponseSubmitted, on_submitted),
    on(SubmissionReplayed, on_submitted),
    on(ResponseReturned, on_returned),
    *SESSION_ROUTES,
]


def build(
    ctx: ServiceContext[ReportingDeps], *, retry_delays: Sequence[float] = (5, 60, 600)
) -> list[Consumer]:
    """The one consumer of this service: identity's, surveys' and responses' events."""
    return [Consumer.of_service(ctx, queue=QUEUE, routes=ROUTES, retry_delays=retry_delays)]
