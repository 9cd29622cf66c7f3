"""Message handlers of the notifier: each takes its typed message and calls a use case.

No business logic here: `usecases.emails` and `usecases.survey_mail` decide. Handlers
run in the consumer's transaction, with the inbox row.
"""

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
from bibmon_common.events import CloudEvent
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.handlers import Route, on
from bibmon_common.messaging.topology import COMMANDS_EXCHANGE
from bibmon_common.projections import SESSION_ROUTES
from bibmon_notifier.deps import NotifierDeps
from bibmon_notifier.usecases import emails, survey_mail

COMMANDS_QUEUE = "notifier.commands"
EVENTS_QUEUE = "notifier.events"


async def on_send_email(
    deps: NotifierDeps, conn: asyncpg.Connection, message: SendEmail, envelope: CloudEvent
) -> None:
    """`notifier.send_email.v1`: record the e-mail (idempotent on its key)."""
    await emails.accept_send_email(deps, conn, message)


async def on_user_erased(
    deps: NotifierDeps, conn: asyncpg.Connection, message: UserErased, envelope: CloudEvent
) -> None:
    """`identity.user.erased.v1`: forget the user's addresses and contexts."""
    await emails.erase_user(deps, conn, message.user_id)


async def on_survey_published(
    deps: NotifierDeps, conn: asyncpg.Connection, message: SurveyPublished, envelope: CloudEvent
) -> None:
    """`surveys.survey.published.v1`: the read model and the invitations."""
    await survey_mail.survey_published(deps, conn, message, at=envelope.time)


async def on_survey_updated(
    deps: NotifierDeps, conn: asyncpg.Connection, message: SurveyUpdated, envelope: CloudEvent
) -> None:
    """`surveys.survey.updated.v1`: newer facts for later e-mails."""
    await survey_mail.survey_updated(deps, conn, message, at=envelope.time)


async def on_survey_closed(
    deps: NotifierDeps, conn: asyncpg.Connection, message: SurveyClosed, envelope: CloudEvent
) -> None:
    """`surveys.survey.closed.v1`: no more invitations or reminders."""
    await survey_mail.survey_closed(deps, conn, message)


async def on_response_submitted(
    deps: NotifierDeps, conn: asyncpg.Connection, message: ResponseSubmitted, envelope: CloudEvent
) -> None:
    """`responses.response.submitted.v1`: no more reminders; the receipt."""
    await survey_mail.response_submitted(deps, conn, message)


async def on_response_returned(
    deps: NotifierDeps, conn: asyncpg.Connection, message: ResponseReturned, envelope: CloudEvent
) -> None:
    """`responses.response.returned.v1`: the returned-for-correction e-mail."""
    await survey_mail.response_returned(deps, conn, message)


async def on_response_reopened(
    deps: NotifierDeps, conn: asyncpg.Connection, message: ResponseReopened, envelope: CloudEvent
) -> None:
    """`responses.response.reopened.v1`: not submitted again."""
    await survey_mail.response_reopened(deps, conn, message)


async def on_response_accepted(
    deps: NotifierDeps, conn: asyncpg.Connection, message: ResponseAccepted, envelope: CloudEvent
) -> None:
    """`responses.response.accepted.v1`: submitted for good."""
    await survey_mail.response_accepted(deps, conn, message)


async def on_report_ready(
    deps: NotifierDeps, conn: asyncpg.Connection, message: ReportReady, envelope: CloudEvent
) -> None:
    """`reporting.report.ready.v1`: tell the contact person, once."""
    await survey_mail.report_ready(deps, conn, message)


COMMAND_ROUTES: list[Route[NotifierDeps, Any]] = [on(SendEmail, on_send_email)]

# Surveys' and responses' events: the survey read model and the survey e-mails.
SURVEY_ROUTES: list[Route[NotifierDeps, Any]] = [
    on(SurveyPublished, on_survey_published),
    on(SurveyUpdated, on_survey_updated),
    on(SurveyClosed, on_survey_closed),
    on(ResponseSubmitted, on_response_submitted),
    on(ResponseReturned, on_response_returned),
    on(ResponseReopened, on_response_reopened),
    on(ResponseAccepted, on_response_accepted),
    on(ReportReady, on_report_ready),
]

# The kernel's session routes take any deps (they need none).
EVENT_ROUTES: list[Route[Any, Any]] = [
    on(UserErased, on_user_erased),
    *SESSION_ROUTES,
    *SURVEY_ROUTES,
]


def build(
    ctx: ServiceContext[NotifierDeps], *, retry_delays: Sequence[float] = (5, 60, 600)
) -> list[Consumer]:
    """The notifier's two consumers: its command queue and its events queue."""
    return [
        Consumer.of_service(
            ctx,
            queue=COMMANDS_QUEUE,
            exchange=COMMANDS_EXCHANGE,
            routes=COMMAND_ROUTES,
            retry_delays=retry_delays,
        ),
        Consumer.of_service(
            ctx, queue=EVENTS_QUEUE, routes=EVENT_ROUTES, retry_delays=retry_delays
        ),
    ]
