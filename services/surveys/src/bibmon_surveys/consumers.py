"""Event handlers of the surveys service: parse, then update the read model; no business rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bibmon_common.app import ServiceContext
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_common.projections import ORGANISATION_HANDLERS

QUEUE = "surveys.events"


def build(ctx: ServiceContext) -> Sequence[Any]:
    """The consumers this service runs."""
    return [
        Consumer(
            ctx.broker,
            ctx.pool,
            queue=QUEUE,
            exchange=EVENTS_EXCHANGE,
            handlers=dict(ORGANISATION_HANDLERS),
        )
    ]
