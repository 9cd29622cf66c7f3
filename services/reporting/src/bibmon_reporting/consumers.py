"""Event handlers of the reporting service: parse, then update the read model; no business rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from bibmon_common.app import ServiceContext
from bibmon_common.contracts.identity import OrganisationRegistered, OrganisationUpdated
from bibmon_common.events import CloudEvent, Message
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_reporting import repository

QUEUE = "reporting.events"


async def on_organisation_changed(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """Keep the organisation read model in step with identity's master data."""
    assert isinstance(message, OrganisationRegistered | OrganisationUpdated)
    await repository.upsert_organisation(
        conn,
        organisation_id=message.organisation_id,
        name=message.name,
        province=message.province,
        municipalities=list(message.municipalities),
        inhabitants=message.inhabitants,
        size_class=message.size_class,
        source_time=envelope.time,
    )


def build(ctx: ServiceContext) -> Sequence[Any]:
    """The consumers this service runs."""
    return [
        Consumer(
            ctx.broker,
            ctx.pool,
            queue=QUEUE,
            exchange=EVENTS_EXCHANGE,
            handlers={
                OrganisationRegistered.type: on_organisation_changed,
                OrganisationUpdated.type: on_organisation_changed,
            },
        )
    ]
