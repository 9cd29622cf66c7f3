"""Identity is the source of its facts; it consumes only reporting's replay requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from bibmon_common.app import ServiceContext
from bibmon_common.contracts.reporting import ReplayRequested
from bibmon_common.events import CloudEvent, Message
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_identity.usecases import organisations

QUEUE = "identity.events"


async def on_replay_requested(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """`reporting.replay.requested.v1`: every organisation's facts once more."""
    assert isinstance(message, ReplayRequested)
    await organisations.replay_organisations(conn, message.replay_id)


def build(ctx: ServiceContext) -> Sequence[Any]:
    """The one consumer: reporting's replay requests."""
    return [
        Consumer(
            ctx.broker,
            ctx.pool,
            queue=QUEUE,
            exchange=EVENTS_EXCHANGE,
            handlers={ReplayRequested.type: on_replay_requested},
        )
    ]
