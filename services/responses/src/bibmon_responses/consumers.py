"""Event handlers of the responses service: parse, then call services.py; no business logic."""

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
from bibmon_common.events import CloudEvent, Message
from bibmon_common.messaging.consumer import Consumer, Handler
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_common.projections import SESSION_HANDLERS
from bibmon_responses import services

QUEUE = "responses.events"


async def on_survey_published(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`surveys.survey.published.v1`: keep the survey and its first questionnaire."""
    assert isinstance(message, SurveyPublished)
    await services.record_survey_published(conn, message, envelope.time)


async def on_survey_updated(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`surveys.survey.updated.v1`: new deadline or other facts."""
    assert isinstance(message, SurveyUpdated)
    await services.record_survey_updated(conn, message, envelope.time)


async def on_questionnaire_published(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`surveys.questionnaire.published.v1`: keep the new version."""
    assert isinstance(message, QuestionnairePublished)
    await services.record_questionnaire_published(conn, message)


async def on_survey_closed(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`surveys.survey.closed.v1`: no more saves or submissions unless reopened."""
    assert isinstance(message, SurveyClosed)
    await services.record_survey_closed(conn, message)


async def on_replay_requested(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`reporting.replay.requested.v1`: re-publish every counted submission for a rebuild."""
    assert isinstance(message, ReplayRequested)
    await services.replay_counted_submissions(conn, message.replay_id)


HANDLERS: dict[str, Handler] = {
    ReplayRequested.type: on_replay_requested,
    SurveyPublished.type: on_survey_published,
    SurveyUpdated.type: on_survey_updated,
    QuestionnairePublished.type: on_questionnaire_published,
    SurveyClosed.type: on_survey_closed,
    **SESSION_HANDLERS,
}


def build(ctx: ServiceContext, *, retry_delays: Sequence[float] = (5, 60, 600)) -> list[Any]:
    """The one consumer of this service: surveys' events and reporting's replay requests."""
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
