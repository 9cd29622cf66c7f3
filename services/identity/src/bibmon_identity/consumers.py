"""Identity is the source of its facts; it consumes only reporting's replay requests."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from bibmon_common.app import ServiceContext
from bibmon_common.contracts.reporting import ReplayRequested
from bibmon_common.events import CloudEvent
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.handlers import on
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.usecases import organisations

QUEUE = "identity.events"


async def on_replay_requested(
    deps: IdentityDeps, conn: asyncpg.Connection, message: ReplayRequested, envelope: CloudEvent
) -> None:
    """`reporting.replay.requested.v1`: every organisation's facts once more."""
    await organisations.replay_organisations(deps, conn, message.replay_id)


def build(ctx: ServiceContext[IdentityDeps]) -> Sequence[Consumer]:
    """The one consumer: reporting's replay requests."""
    return [
        Consumer.of_service(ctx, queue=QUEUE, routes=[on(ReplayRequested, on_replay_requested)])
    ]
