"""Event handlers of the surveys service: identity's organisation facts into the read model,
identity's ended sessions, and reporting's replay requests. No business logic here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from bibmon_common.app import ServiceContext
from bibmon_common.contracts.reporting import ReplayRequested
from bibmon_common.events import CloudEvent
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.handlers import Route, on
from bibmon_common.projections import ORGANISATION_ROUTES, SESSION_ROUTES
from bibmon_surveys import usecases
from bibmon_surveys.deps import SurveysDeps

QUEUE = "surveys.events"


async def on_replay_requested(
    deps: SurveysDeps, conn: asyncpg.Connection, message: ReplayRequested, envelope: CloudEvent
) -> None:
    """`reporting.replay.requested.v1`: re-publish every published survey for a rebuild."""
    await usecases.replay_surveys(conn, deps, message.replay_id)


def build(ctx: ServiceContext[SurveysDeps]) -> Sequence[Any]:
    """The consumers this service runs."""
    routes: list[Route[Any, Any]] = [
        *ORGANISATION_ROUTES,
        *SESSION_ROUTES,
        on(ReplayRequested, on_replay_requested),
    ]
    return [Consumer.of_service(ctx, queue=QUEUE, routes=routes)]
