"""Read models that several services keep of identity's public organisation master data.

Each service keeps its own copy in its own database (created by its own migration: table
`organisation`); this module holds the one way to fill it from the events.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bibmon_common.contracts.identity import OrganisationRegistered, OrganisationUpdated
from bibmon_common.events import CloudEvent, Message
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.topology import EVENTS_EXCHANGE

_UPSERT = """
INSERT INTO organisation
    (id, name, province, municipalities, inhabitants, size_class, source_time)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET
    name = EXCLUDED.name, province = EXCLUDED.province,
    municipalities = EXCLUDED.municipalities, inhabitants = EXCLUDED.inhabitants,
    size_class = EXCLUDED.size_class, source_time = EXCLUDED.source_time
WHERE organisation.source_time <= EXCLUDED.source_time
"""


async def on_organisation_changed(
    conn: asyncpg.Connection, message: Message, envelope: CloudEvent
) -> None:
    """Upsert the read model row unless a newer event already wrote it (events may reorder)."""
    assert isinstance(message, OrganisationRegistered | OrganisationUpdated)
    await conn.execute(
        _UPSERT,
        message.organisation_id,
        message.name,
        message.province,
        list(message.municipalities),
        message.inhabitants,
        message.size_class,
        envelope.time,
    )


ORGANISATION_HANDLERS = {
    OrganisationRegistered.type: on_organisation_changed,
    OrganisationUpdated.type: on_organisation_changed,
}


async def list_organisations(
    conn: asyncpg.Connection | PoolConnectionProxy,
) -> list[dict[str, Any]]:
    """All organisations of the read model, by name."""
    rows = await conn.fetch(
        "SELECT id, name, province, municipalities, inhabitants, size_class"
        " FROM organisation ORDER BY name"
    )
    return [dict(r) for r in rows]


def organisation_consumer(ctx: Any, queue: str) -> Consumer:
    """The consumer of a service whose only events are identity's organisation facts."""
    return Consumer(
        ctx.broker,
        ctx.pool,
        queue=queue,
        exchange=EVENTS_EXCHANGE,
        handlers=dict(ORGANISATION_HANDLERS),
    )
