"""Event handlers of the surveys service: identity's organisation facts into the read model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bibmon_common.app import ServiceContext
from bibmon_common.projections import organisation_consumer

QUEUE = "surveys.events"


def build(ctx: ServiceContext) -> Sequence[Any]:
    """The consumers this service runs."""
    return [organisation_consumer(ctx, QUEUE)]
