"""What the broker brings the real service processes: duplicates out of order, connection
drops, malformed messages (parked, then replayed with `bibmon-<service> replay-parked`)."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from tests.faults.conftest import FaultPlatform
from tests.faults.harness import fetch
from tests.faults.journey import (
    Ledger,
    fill_in,
    open_surveys,
    receipts,
    run_all,
    submissions_in_reporting,
    until,
)

from bibmon_common.contracts.identity import OrganisationRegistered, OrganisationUpdated
from bibmon_common.events import CloudEvent, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.topology import EVENTS_EXCHANGE

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

# The services that keep a read model of the organisations (identity's events).
ORGANISATION_READERS = ("surveys", "reporting")


@pytest_asyncio.fixture(loop_scope="session")
async def broker(platform: FaultPlatform) -> AsyncIterator[Broker]:
    """The test's own publisher, straight to the private node (not through the cutter)."""
    broker = Broker(platform.rabbit.url, "fault-test", reconnect_interval=0.2)
    await broker.connect()
    yield broker
    await broker.close()


def organisation(cls: type, organisation_id: uuid.UUID, version: int) -> OrganisationRegistered:
    return cls(  # type: ignore[no-any-return]
        organisation_id=organisation_id,
        name=f"Storingsbibliotheek versie {version}",
        province="Utrecht",
        municipalities=("Utrecht",),
        inhabitants=100_000 + version,
        size_class="large",
    )


async def publish(broker: Broker, envelope: CloudEvent) -> None:
    await broker.publish(
        EVENTS_EXCHANGE, envelope.type, envelope.to_bytes(), message_id=str(envelope.id)
    )


async def names(platform: FaultPlatform, service: str, ids: list[uuid.UUID]) -> dict:
    rows = await fetch(
        platform.dsn(service),
        "SELECT id, name, inhabitants FROM organisation WHERE id = ANY($1::uuid[])",
        ids,
    )
    return {r["id"]: (r["name"], r["inhabitants"]) for r in rows}


@pytest.mark.asyncio(loop_scope="session")
async def test_a_storm_of_duplicates_out_of_order_ends_in_the_newest_state_in_every_service(
    platform: FaultPlatform, broker: Broker
) -> None:
    base = datetime.now(UTC)
    ids = [uuid.uuid4() for _ in range(20)]
    envelopes = [
        to_envelope(
            organisation(OrganisationRegistered if v == 0 else OrganisationUpdated, o, v),
            source="identity",
            time=base + timedelta(seconds=v),
        )
        for o in ids
        for v in range(5)
    ]
    storm = [e for e in envelopes for _ in range(3)]  # every message three times
    random.Random(11).shuffle(storm)
    for envelope in storm:
        await publish(broker, envelope)
    newest = dict.fromkeys(ids, ("Storingsbibliotheek versie 4", 100_004))

    async def newest_everywhere() -> bool:
        for service in ORGANISATION_READERS:
            if await names(platform, service, ids) != newest:
                return False
        return True

    await until(newest_everywhere, 90, "the newest state in every reading service")
    for service in ORGANISATION_READERS:
        handled = await fetch(
            platform.dsn(service),
            "SELECT count(*) AS n FROM inbox WHERE message_id = ANY($1::uuid[])",
            [e.id for e in envelopes],
        )
        assert handled[0]["n"] == len(envelopes), service  # each of 100 once, of 300 sent
    assert sum(platform.parked().values()) == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_twenty_connection_drops_in_a_minute_park_no_healthy_message(
    platform: FaultPlatform, broker: Broker
) -> None:
    ids = [uuid.uuid4() for _ in range(200)]
    async with httpx.AsyncClient(timeout=30) as client:
        surveys = await open_surveys(platform, client, 40, label="drops")
        pids = platform.pids()
        ledger = Ledger()
        cuts: list[int] = []

        async def identity_events() -> None:  # 200 over the minute
            for o in ids:
                await publish(
                    broker,
                    to_envelope(organisation(OrganisationRegistered, o, 0), source="identity"),
                )
                await asyncio.sleep(0.3)

        async def submissions() -> None:  # the responses relay publishes through the drops
            jobs = [
                (lambda s=s, o=o: fill_in(platform, client, s, o, ledger, saves=3))
                for s in surveys
                for o in s.organisations
            ]
            await run_all(jobs, concurrency=1)

        async def drops() -> None:
            for _ in range(20):
                await asyncio.sleep(3)
                # A drop is meant for live connections: give the services' reconnect
                # back-off (a few seconds after the previous drop) time to land.
                for _ in range(40):
                    if platform.cutter.connections > 0:
                        break
                    await asyncio.sleep(0.1)
                cuts.append(await asyncio.to_thread(platform.cutter.cut))

        await asyncio.gather(identity_events(), submissions(), drops())

    expected = dict.fromkeys(ids, ("Storingsbibliotheek versie 0", 100_000))

    async def all_handled() -> bool:
        for service in ORGANISATION_READERS:
            if await names(platform, service, ids) != expected:
                return False
        return (
            sum(receipts(platform, surveys).values()) >= 40
            and len(await submissions_in_reporting(platform, surveys)) >= 40
        )

    await until(all_handled, 120, "every message handled after the drops")
    print(f"\nconnections cut per drop: {cuts}; retried requests: {dict(ledger.errors)}")
    # The drops hit live connections (the services had reconnected in between).
    assert sum(1 for n in cuts if n > 0) >= 15, cuts
    assert sum(platform.parked().values()) == 0, platform.parked()
    assert set(receipts(platform, surveys).values()) == {1}
    assert platform.pids() == pids


def replay_parked(platform: FaultPlatform, *args: str) -> str:
    """`bibmon-reporting replay-parked …` as an operator runs it, against the private node."""
    env = platform.stack.service_env("reporting")
    env["BIBMON_REPORTING_AMQP_URL"] = platform.rabbit.url
    result = subprocess.run(
        [str(Path(sys.executable).parent / "bibmon-reporting"), "replay-parked", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


@pytest.mark.asyncio(loop_scope="session")
async def test_malformed_messages_are_parked_with_the_reason_and_replayed_by_the_command(
    platform: FaultPlatform, broker: Broker
) -> None:
    parking = "reporting.events.parking"
    before = platform.parked().get(parking, 0)
    assert before == 0
    not_json = uuid.uuid4()
    await broker.publish(
        EVENTS_EXCHANGE, OrganisationUpdated.type, b"{not json", message_id=str(not_json)
    )
    invalid = CloudEvent(
        source="identity", type=OrganisationUpdated.type, data={"organisation_id": "geen uuid"}
    )
    await publish(broker, invalid)
    # Routed by a bound key, but a type no contract knows (a newer producer, say).
    unknown = CloudEvent(source="identity", type="identity.organisation.merged.v9", data={})
    await broker.publish(
        EVENTS_EXCHANGE, OrganisationUpdated.type, unknown.to_bytes(), message_id=str(unknown.id)
    )

    def parked_in_reporting() -> int:
        return platform.parked().get(parking, 0)

    await until(lambda: asyncio.to_thread(lambda: parked_in_reporting() == 3), 60, "3 parked")

    listed = await asyncio.to_thread(
        replay_parked, platform, "--queue", "reporting.events", "--dry-run"
    )
    lines = [line.split("\t") for line in listed.splitlines() if line.startswith("would replay")]
    assert sorted((fields[2], fields[4]) for fields in lines) == sorted(
        [
            (str(not_json), "reason=invalid"),
            (str(invalid.id), "reason=invalid"),
            (str(unknown.id), "reason=unknown_type"),
        ]
    )
    assert "dry run: nothing changed" in listed
    assert parked_in_reporting() == 3

    replayed = await asyncio.to_thread(
        replay_parked,
        platform,
        "--queue",
        "reporting.events",
        "--type",
        "identity.organisation.merged.v9",
    )
    assert f"replayed\treporting.events\t{unknown.id}\t" in replayed
    assert "reporting.events: replayed 1, left parked 2" in replayed
    # Back in the work queue, the running service handles it again (from its first
    # attempt): still unknown, so parked again with its reason; the others stayed.
    await until(lambda: asyncio.to_thread(lambda: parked_in_reporting() == 3), 60, "re-parked")
    again = await asyncio.to_thread(
        replay_parked, platform, "--queue", "reporting.events", "--dry-run"
    )
    assert f"{unknown.id}\tidentity.organisation.merged.v9\treason=unknown_type" in again
    # Leave the queue empty for the other tests (parking holds nothing healthy).
    for queue in ("surveys.events", "reporting.events"):
        await asyncio.to_thread(_purge_parking, platform, queue)


def _purge_parking(platform: FaultPlatform, queue: str) -> None:
    platform.rabbit.ctl("purge_queue", f"{queue}.parking")
