"""Reporting keeps its organisation read model from identity's events, through real RabbitMQ."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from bibmon_common.clock import SystemClock
from bibmon_common.contracts.identity import OrganisationRegistered, OrganisationUpdated
from bibmon_common.events import to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.testing.amqp import fresh_vhost
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.service import running_service
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.main import create_app

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def service():
    async with fresh_database("bibmon_t_reporting") as dsn, fresh_vhost("bibmon_t_rep") as amqp:
        settings = ReportingSettings(database_url=dsn, amqp_url=amqp, environment="test")
        app = create_app(settings, clock=SystemClock())
        async with running_service(app, base_url="http://t", startup_timeout=60) as running:
            broker = Broker(amqp, connection_name="test-publisher")
            await broker.connect()
            yield running.client, broker, app
            await broker.close()


async def publish(broker, message, *, time):
    envelope = to_envelope(message, source="test/identity", time=time)
    await broker.publish(
        message.exchange, message.type, envelope.to_bytes(), message_id=str(envelope.id), headers={}
    )


async def wait_for_org(client, org_id, predicate=lambda o: True):
    for _ in range(100):
        orgs = {o["id"]: o for o in (await client.get("/api/reporting/organisations")).json()}
        if org_id in orgs and predicate(orgs[org_id]):
            return orgs[org_id]
        await asyncio.sleep(0.05)
    raise AssertionError("organisation did not reach the read model")


def org_event(cls, org_id, name):
    return cls(
        organisation_id=org_id,
        name=name,
        province="Utrecht",
        municipalities=("Utrecht",),
        inhabitants=361_000,
        size_class="very_large",
    )


async def test_registered_organisation_appears_in_the_read_model(service):
    client, broker, _ = service
    org_id = uuid.uuid4()
    now = datetime.now(UTC)
    await publish(
        broker, org_event(OrganisationRegistered, org_id, "Bibliotheek Utrecht"), time=now
    )
    org = await wait_for_org(client, str(org_id))
    assert org["province"] == "Utrecht"
    assert org["size_class"] == "very_large"


async def test_an_older_update_never_overwrites_a_newer_one(service):
    client, broker, _ = service
    org_id = uuid.uuid4()
    now = datetime.now(UTC)
    await publish(broker, org_event(OrganisationRegistered, org_id, "Nieuw"), time=now)
    await wait_for_org(client, str(org_id), lambda o: o["name"] == "Nieuw")
    await publish(
        broker, org_event(OrganisationUpdated, org_id, "Oud"), time=now - timedelta(minutes=5)
    )
    marker = uuid.uuid4()  # a later event on the same queue proves the old one was handled
    await publish(broker, org_event(OrganisationRegistered, marker, "Marker"), time=now)
    await wait_for_org(client, str(marker))
    org = await wait_for_org(client, str(org_id))
    assert org["name"] == "Nieuw"


async def test_service_reports_ready_with_database_and_broker(service):
    client, _, _ = service
    resp = await client.get("/health/ready")
    assert resp.status_code == 200, resp.text
    assert resp.json()["checks"] == {"database": "ok", "broker": "ok"}
    assert (await client.get("/api/reporting/openapi.json")).status_code == 200
