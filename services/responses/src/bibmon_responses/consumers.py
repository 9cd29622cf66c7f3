"""Event handlers of the responses service: surveys' events into the survey projection,
identity's ended sessions, and reporting's replay requests. No business logic here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from bibmon_common.app import ServiceContext
from bibmon_common.contracts.reporting import ReplayRequested
from bibmon_common.contracts.surveys import (
    QuestionnairePublished,
    SurveyClosed,
    SurveyPublished,
    SurveyUpdated,
)
from bibmon_common.events import CloudEvent
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.handlers import Route, on
from bibmon_common.projections import SESSION_ROUTES
from bibmon_responses import usecases
from bibmon_responses.deps import ResponsesDeps

QUEUE = "responses.events"


async def on_survey_published(
    deps: ResponsesDeps, conn: asyncpg.Connection, message: SurveyPublished, envelope: CloudEvent
) -> None:
    """`surveys.survey.published.v1`: keep the survey and its first questionnaire."""
    await usecases.record_survey_published(conn, message, envelope.time)


async def on_survey_updated(
    deps: ResponsesDeps, conn: asyncpg.Connection, message: SurveyUpdated, envelope: CloudEvent
) -> None:
    """`surveys.survey.updated.v1`: new deadline or other facts."""
    await usecases.record_survey_updated(conn, message, envelope.time)


async def on_questionnaire_published(
    deps: ResponsesDeps,
    conn: asyncpg.Connection,
    message: QuestionnairePublished,
    envelope: CloudEvent,
) -> None:
    """`surveys.questionnaire.published.v1`: keep the new version."""
    await usecases.record_questionnaire_published(conn, message)


async def on_survey_closed(
    deps: ResponsesDeps, conn: asyncpg.Connection, message: SurveyClosed, envelope: CloudEvent
) -> None:
    """`surveys.survey.closed.v1`: no more saves or submissions unless reopened."""
    await usecases.record_survey_closed(conn, message)


async def on_replay_requested(
    deps: ResponsesDeps, conn: asyncpg.Connection, message: ReplayRequested, envelope: CloudEvent
) -> None:
    """`reporting.replay.requested.v1`: re-publish every counted submission for a rebuild."""
    await usecases.replay_counted_submissions(conn, deps, message.replay_id)


ROUTES: list[Route[Any, Any]] = [
    on(ReplayRequested, on_replay_requested),
    on(SurveyPublished, on_survey_published),
    on(SurveyUpdated, on_survey_updated),
    on(QuestionnairePublished, on_questionnaire_published),
    on(SurveyClosed, on_survey_closed),
    *SESSION_ROUTES,
]


def build(
    ctx: ServiceContext[ResponsesDeps], *, retry_delays: Sequence[float] = (5, 60, 600)
) -> list[Any]:
    """The one consumer of this service: surveys' events and reporting's replay requests."""
    return [Consumer.of_service(ctx, queue=QUEUE, routes=ROUTES, retry_delays=retry_delays)]
