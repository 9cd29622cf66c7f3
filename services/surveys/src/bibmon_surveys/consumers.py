"""Event handlers of the surveys service: identity's organisation facts into the read model,
and reporting's replay requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from bibmon_common.app import ServiceContext
from bibmon_common.contracts.reporting import ReplayRequested
from bibmon_common.events import CloudEvent, Message
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_common.projections import ORGANISATION_HANDLERS, SESSION_HANDLERS
from bibmon_surveys import services

QUEUE = "surveys.events"


async def on_replay_requested(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`reporting.replay.requested.v1`: re-publish every published survey for a rebuild."""
    assert isinstance(message, ReplayRequested)
    await services.replay_surveys(conn, message.replay_id)


def build(ctx: ServiceContext) -> Sequence[Any]:
    """The consumers this service runs."""
    return [
        Consumer(
            ctx.broker,
            ctx.pool,
            queue=QUEUE,
            exchange=EVENTS_EXCHANGE,
            handlers={
                **ORGANISATION_HANDLERS,
                **SESSION_HANDLERS,
                ReplayRequested.type: on_replay_requested,
            },
        )
    ]
