"""Participants resolved from the organisation read model that identity's events feed."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bibmon_common.contracts.identity import OrganisationRegistered, OrganisationUpdated
from bibmon_common.events import to_envelope
from bibmon_common.messaging.broker import Broker

from .conftest import API, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_filter_resolves_by_province_and_size_class(api, surveys, organisations):
    small_utrecht = await organisations.register(province="Utrecht", size_class="small")
    large_utrecht = await organisations.register(province="Utrecht", size_class="large")
    small_limburg = await organisations.register(province="Limburg", size_class="small")
    large_gelderland = await organisations.register(province="Gelderland", size_class="large")
    draft = await surveys.create(
        participants={
            "mode": "filter",
            "provinces": ["Utrecht", "Limburg"],
            "size_classes": ["small"],
        }
    )
    preview = (
        await api.get(f"{API}/surveys/{draft['id']}/participants", headers=surveys.researcher)
    ).json()
    assert preview["preview"] is True
    published = await surveys.publish(draft["id"])
    ids = {uuid.UUID(i) for i in published["participant_ids"]}
    assert {small_utrecht, small_limburg} <= ids
    assert not {large_utrecht, large_gelderland} & ids

    listed = (
        await api.get(f"{API}/surveys/{draft['id']}/participants", headers=surveys.researcher)
    ).json()
    assert listed["preview"] is False
    assert listed["total"] == len(ids)
    assert {i["id"] for i in listed["items"]} == {i["id"] for i in preview["items"]}
    for item in listed["items"]:
        assert item["province"] in {"Utrecht", "Limburg"}
        assert item["size_class"] == "small"
        assert item["name"]


async def test_all_takes_every_organisation_known_at_publishing(api, surveys, organisations, ctx):
    await organisations.register()
    published = await surveys.published(participants={"mode": "all"})
    async with ctx.pool.acquire() as conn:
        count = await conn.fetchval("SELECT count(*) FROM organisation")
    assert len(published["participant_ids"]) == count
    later = await organisations.register()
    again = await api.get(f"{API}/surveys/{published['id']}", headers=surveys.researcher)
    assert str(later) not in again.json()["participant_ids"]


async def test_an_organisation_registered_in_identity_can_take_part(api, surveys, amqp_url, ctx):
    """Through the broker: identity's event → the surveys consumer → the read model."""
    organisation_id = uuid.uuid4()
    registered = OrganisationRegistered(
        organisation_id=organisation_id,
        name="Bibliotheek Nieuwdorp",
        province="Flevoland",
        inhabitants=12_000,
        size_class="small",
    )
    moved = OrganisationUpdated(
        organisation_id=organisation_id,
        name="Bibliotheek Nieuwdorp",
        province="Overijssel",
        inhabitants=12_000,
        size_class="small",
    )
    broker = Broker(amqp_url, "bibmon-surveys-test-identity")
    await broker.connect()
    try:
        for event in (registered, moved):
            envelope = to_envelope(event, source="identity")
            await broker.publish(
                event.exchange,
                event.type,
                envelope.to_bytes(),
                message_id=str(envelope.id),
                message_type=event.type,
            )
            await asyncio.sleep(0.01)  # envelope times must differ: the later one wins
    finally:
        await broker.close()

    async def province() -> str | None:
        async with ctx.pool.acquire() as conn:
            value = await conn.fetchval(
                "SELECT province FROM organisation WHERE id = $1", organisation_id
            )
        return value if value == "Overijssel" else None

    await wait_until(province)
    published = await surveys.published(
        participants={"mode": "filter", "provinces": ["Overijssel"], "size_classes": ["small"]}
    )
    assert str(organisation_id) in published["participant_ids"]
