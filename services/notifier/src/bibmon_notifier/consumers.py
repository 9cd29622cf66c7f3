"""Message handlers of the notifier: parse, then call services.py; no business logic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from bibmon_common.app import ServiceContext
from bibmon_common.contracts.identity import UserErased
from bibmon_common.contracts.notifier import SendEmail
from bibmon_common.contracts.reporting import ReportReady
from bibmon_common.contracts.responses import (
    ResponseAccepted,
    ResponseReopened,
    ResponseReturned,
    ResponseSubmitted,
)
from bibmon_common.contracts.surveys import SurveyClosed, SurveyPublished, SurveyUpdated
from bibmon_common.events import CloudEvent, Message
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.topology import COMMANDS_EXCHANGE, EVENTS_EXCHANGE
from bibmon_common.projections import SESSION_HANDLERS
from bibmon_notifier import services, survey_mail
from bibmon_notifier.config import NotifierSettings

COMMANDS_QUEUE = "notifier.commands"
EVENTS_QUEUE = "notifier.events"


def on_send_email(settings: NotifierSettings) -> Any:
    """Handler for `notifier.send_email.v1`: record the job (idempotent on its key)."""

    async def handle(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        assert isinstance(message, SendEmail)
        await services.accept_send_email(conn, message, settings)

    return handle


async def on_user_erased(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
    """Handler for `identity.user.erased.v1`: forget the user's addresses and contexts."""
    assert isinstance(message, UserErased)
    await services.erase_user(conn, message.user_id)


def survey_handlers(ctx: ServiceContext) -> dict[str, Any]:
    """Handlers of surveys' and responses' events: the read model and the survey e-mails."""
    settings: NotifierSettings = ctx.settings

    async def published(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        assert isinstance(message, SurveyPublished)
        await survey_mail.survey_published(
            conn, message, settings=settings, clock=ctx.clock, at=envelope.time
        )

    async def updated(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        assert isinstance(message, SurveyUpdated)
        await survey_mail.survey_updated(conn, message, clock=ctx.clock, at=envelope.time)

    async def closed(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        assert isinstance(message, SurveyClosed)
        await survey_mail.survey_closed(conn, message)

    async def submitted(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        assert isinstance(message, ResponseSubmitted)
        await survey_mail.response_submitted(conn, message, settings=settings, clock=ctx.clock)

    async def returned(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        assert isinstance(message, ResponseReturned)
        await survey_mail.response_returned(conn, message, settings=settings)

    async def reopened(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        assert isinstance(message, ResponseReopened)
        await survey_mail.response_reopened(conn, message)

    async def accepted(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        assert isinstance(message, ResponseAccepted)
        await survey_mail.response_accepted(conn, message)

    async def report_ready(
        conn: asyncpg.Connection, message: Message, envelope: CloudEvent
    ) -> None:
        assert isinstance(message, ReportReady)
        await survey_mail.report_ready(conn, message, settings=settings)

    return {
        ReportReady.type: report_ready,
        SurveyPublished.type: published,
        SurveyUpdated.type: updated,
        SurveyClosed.type: closed,
        ResponseSubmitted.type: submitted,
        ResponseReturned.type: returned,
        ResponseReopened.type: reopened,
        ResponseAccepted.type: accepted,
    }


def build(ctx: ServiceContext, *, retry_delays: Sequence[float] = (5, 60, 600)) -> list[Any]:
    """The notifier's two consumers: its command queue and its events queue."""
    settings: NotifierSettings = ctx.settings
    return [
        Consumer(
            ctx.broker,
            ctx.pool,
            queue=COMMANDS_QUEUE,
            exchange=COMMANDS_EXCHANGE,
            handlers={SendEmail.type: on_send_email(settings)},
            retry_delays=retry_delays,
        ),
        Consumer(
            ctx.broker,
            ctx.pool,
            queue=EVENTS_QUEUE,
            exchange=EVENTS_EXCHANGE,
            handlers={
                UserErased.type: on_user_erased,
                **SESSION_HANDLERS,
                **survey_handlers(ctx),
            },
            retry_delays=retry_delays,
        ),
    ]
