"""The organisation read model (the kernel's projection) with events out of order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bibmon_common.contracts.identity import OrganisationRegistered, OrganisationUpdated
from bibmon_common.events import to_envelope
from bibmon_common.projections import on_organisation_changed

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def handle(ctx: Any, event: Any, at: datetime) -> None:
    async with ctx.pool.acquire() as conn, conn.transaction():
        await on_organisation_changed(
            None, conn, event, to_envelope(event, source="identity", time=at)
        )


async def test_a_registration_that_arrives_after_an_update_does_not_undo_it(ctx: Any) -> None:
    # docs/reliability.md 7: a newer fact never loses to an older one.
    organisation_id = uuid.uuid4()
    facts: dict[str, Any] = {
        "organisation_id": organisation_id,
        "province": "Utrecht",
        "municipalities": ("Testgemeente",),
        "inhabitants": 60_000,
        "size_class": "medium",
    }
    registered_at = datetime.now(UTC)
    await handle(
        ctx,
        OrganisationUpdated(**facts, name="Bibliotheek Nieuwe Naam"),
        registered_at + timedelta(seconds=5),
    )
    await handle(ctx, OrganisationRegistered(**facts, name="Bibliotheek Oude Naam"), registered_at)

    async with ctx.pool.acquire() as conn:
        name = await conn.fetchval("SELECT name FROM organisation WHERE id = $1", organisation_id)
    assert name == "Bibliotheek Nieuwe Naam"
