"""/metrics of a service built by the kernel: HTTP, outbox backlog, consumer outcomes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI
from prometheus_client.parser import text_string_to_metric_families

from bibmon_common.app import create_service_app
from bibmon_common.events import Event, register, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.outbox import UNROUTABLE_ERROR, enqueue
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_common.settings import ServiceSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@register
class GadgetMade(Event):
    """Test-only event."""

    type: ClassVar[str] = "test.metrics.gadget_made.v1"

    gadget_id: UUID


router = APIRouter()


@router.get("/gadgets/{gadget_id}")
async def get_gadget(gadget_id: int) -> dict[str, int]:
    if gadget_id == 13:
        raise RuntimeError("unlucky")
    return {"id": gadget_id}


@pytest_asyncio.fixture(loop_scope="session")
async def app(database_dsn: str, amqp_url: str) -> AsyncIterator[FastAPI]:
    settings = ServiceSettings(
        environment="test",
        database_url=database_dsn,
        amqp_url=amqp_url,
        run_migrations_on_startup=False,
        start_background_workers=False,  # no relay: outbox rows stay unpublished
        log_json=False,
        log_level="WARNING",
    )
    app = create_service_app(
        settings,
        service="metricstest",
        title="metrics test",
        routers=[router],
        migrations_dir=Path("/nonexistent"),
        jwks_provider=lambda _force: asyncio.sleep(0, {"keys": []}),
    )
    async with LifespanManager(app) as manager:
        yield manager.app  # type: ignore[misc]


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as c:
        yield c


async def scrape(client: httpx.AsyncClient) -> Samples:
    resp = await client.get("/metrics")
    assert resp.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(resp.text)
        for s in family.samples
    }


def requests(m: Samples, route: str, status: str) -> float:
    key = ("bibmon_http_requests_total", (("method", "GET"), ("route", route), ("status", status)))
    return m.get(key, 0.0)


@pytest.mark.asyncio(loop_scope="session")
async def test_requests_are_counted_by_route_template_and_status(client) -> None:
    route = "/api/metricstest/gadgets/{gadget_id}"
    before = await scrape(client)

    assert (await client.get("/api/metricstest/gadgets/1")).status_code == 200
    assert (await client.get("/api/metricstest/gadgets/2")).status_code == 200
    assert (await client.get("/api/metricstest/gadgets/13")).status_code == 500
    assert (await client.get(f"/api/metricstest/{uuid.uuid4()}")).status_code == 404

    after = await scrape(client)
    assert requests(after, route, "200") == requests(before, route, "200") + 2
    assert requests(after, route, "500") == requests(before, route, "500") + 1
    assert requests(after, "unmatched", "404") == requests(before, "unmatched", "404") + 1
    count = ("bibmon_http_request_duration_seconds_count", (("method", "GET"), ("route", route)))
    assert after[count] == before.get(count, 0.0) + 3
    # Paths with ids never become labels; probes and scrapes are not counted.
    text = (await client.get("/metrics")).text
    assert "gadgets/1" not in text
    assert 'route="/metrics"' not in text


@pytest.mark.asyncio(loop_scope="session")
async def test_outbox_backlog_and_lag_are_read_at_scrape(client, pool, clean_outbox) -> None:
    empty = await scrape(client)
    assert empty[("bibmon_outbox_unpublished_messages", ())] == 0
    assert empty[("bibmon_outbox_lag_seconds", ())] == 0

    async with pool.acquire() as conn, conn.transaction():
        for _ in range(3):
            await enqueue(conn, GadgetMade(gadget_id=uuid.uuid4()), source="metricstest")
        await conn.execute("UPDATE outbox SET created_at = now() - interval '90 seconds'")

    backlog = await scrape(client)
    assert backlog[("bibmon_outbox_unpublished_messages", ())] == 3
    assert 90 <= backlog[("bibmon_outbox_lag_seconds", ())] < 120
    assert backlog[("bibmon_outbox_unroutable_events", ())] == 0

    # An old event no queue is bound for is counted apart and does not hold the lag up.
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, GadgetMade(gadget_id=uuid.uuid4()), source="metricstest")
        await conn.execute(
            "UPDATE outbox SET created_at = now() - interval '3 hours', last_error = $1"
            " WHERE created_at > now() - interval '1 minute'",
            UNROUTABLE_ERROR,
        )
    waiting = await scrape(client)
    assert waiting[("bibmon_outbox_unpublished_messages", ())] == 4
    assert waiting[("bibmon_outbox_unroutable_events", ())] == 1
    assert 90 <= waiting[("bibmon_outbox_lag_seconds", ())] < 120


@pytest.mark.asyncio(loop_scope="session")
async def test_consumed_duplicate_and_parked_messages_are_counted_per_queue(
    client, broker: Broker, pool: asyncpg.Pool, queue_name: str, wait_until
) -> None:
    async def handler(conn: Any, message: Any, envelope: Any) -> None:
        return None

    consumer = Consumer(
        broker,
        pool,
        queue=queue_name,
        exchange=EVENTS_EXCHANGE,
        handlers={GadgetMade.type: handler},
        prefetch=1,
    )
    await consumer.start()
    try:
        envelope = to_envelope(GadgetMade(gadget_id=uuid.uuid4()), source="test")
        for body, message_id in (
            (envelope.to_bytes(), str(envelope.id)),
            (envelope.to_bytes(), str(envelope.id)),  # a redelivery: duplicate
            (b"not json", str(uuid.uuid4())),  # parked as invalid
        ):
            await broker.publish(EVENTS_EXCHANGE, GadgetMade.type, body, message_id=message_id)

        def value(m: Samples, name: str, **labels: str) -> float:
            return m.get((name, tuple(sorted({"queue": queue_name, **labels}.items()))), 0.0)

        async def all_counted() -> bool:
            m = await scrape(client)
            return value(m, "bibmon_messages_parked_total", reason="invalid") == 1

        await wait_until(all_counted)
        m = await scrape(client)
        assert value(m, "bibmon_messages_consumed_total", outcome="processed") == 1
        assert value(m, "bibmon_messages_consumed_total", outcome="duplicate") == 1
    finally:
        await consumer.stop(grace_period=5)
