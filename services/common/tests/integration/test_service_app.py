"""A whole service built by create_service_app, against the real RabbitMQ and PostgreSQL.

The broker outages go through a TCPProxy: closing it is a broker that is down.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import aio_pika
import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI
from yarl import URL

from bibmon_common.app import DbConn, ServiceContext, create_service_app
from bibmon_common.events import CloudEvent, Event, Message, register, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.outbox import UNROUTABLE_ERROR, enqueue
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_common.settings import ServiceSettings
from bibmon_common.testing.amqp import TCPProxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@register
class GadgetMade(Event):
    """Test-only event."""

    type: ClassVar[str] = "test.app.gadget_made.v1"

    gadget_id: UUID


async def no_jwks(force: bool = False) -> dict[str, Any]:
    return {"keys": []}


def reads_router() -> APIRouter:
    router = APIRouter()

    @router.get("/effects")
    async def count_effects(conn: DbConn) -> dict[str, int]:
        return {"count": int(await conn.fetchval("SELECT count(*) FROM effects"))}

    return router


class Handled:
    """A handler that records each message and writes one effect row."""

    def __init__(self, consumer: str) -> None:
        self.consumer = consumer
        self.ids: list[UUID] = []

    async def __call__(self, conn: asyncpg.Connection, message: Message, env: CloudEvent) -> None:
        self.ids.append(env.id)
        await conn.execute(
            "INSERT INTO effects (consumer, message_id) VALUES ($1, $2)", self.consumer, env.id
        )


def consumer_of(queue: str, handler: Any, **kwargs: Any) -> Callable[[ServiceContext], list[Any]]:
    def factory(ctx: ServiceContext) -> list[Any]:
        kwargs.setdefault("retry_delays", (0.1,))
        return [
            Consumer(
                ctx.broker,
                ctx.pool,
                queue=queue,
                exchange=EVENTS_EXCHANGE,
                handlers={GadgetMade.type: handler},
                **kwargs,
            )
        ]

    return factory


class Running:
    """The app, an HTTP client for it, and what its watchdog would have done."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self.exits: list[str] = []

    @property
    def ctx(self) -> ServiceContext:
        ctx: ServiceContext = self.app.state.ctx
        return ctx


@asynccontextmanager
async def running_service(
    database_dsn: str,
    amqp_url: str,
    *,
    consumers: Callable[[ServiceContext], Sequence[Any]] | None = None,
) -> AsyncIterator[Running]:
    settings = ServiceSettings(
        environment="test",
        database_url=database_dsn,
        amqp_url=amqp_url,
        run_migrations_on_startup=False,
        log_json=False,
        log_level="WARNING",
    )
    holder: list[Running] = []

    async def fast_watchdog(ctx: ServiceContext) -> None:
        ctx.watchdog_interval = 0.2
        ctx.watchdog_grace = 1.0
        ctx.on_watchdog_exit = lambda: holder[0].exits.append("exit")

    app = create_service_app(
        settings,
        service="kerneltest",
        title="kernel test",
        routers=[reads_router()],
        migrations_dir=Path("/nonexistent"),
        consumers=consumers,
        on_startup=[fast_watchdog],
        jwks_provider=no_jwks,
    )
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as client:
            running = Running(app, client)
            holder.append(running)
            yield running


async def publish_gadget(broker: Broker) -> CloudEvent:
    envelope = to_envelope(GadgetMade(gadget_id=uuid.uuid4()), source="test")
    await broker.publish(
        EVENTS_EXCHANGE, GadgetMade.type, envelope.to_bytes(), message_id=str(envelope.id)
    )
    return envelope


async def consumers_running(running: Running) -> bool:
    ctx = running.ctx
    return ctx.consumers_started and all(c.is_consuming for c in ctx.consumers)


@pytest.mark.asyncio(loop_scope="session")
async def test_readiness_stays_ok_while_the_broker_is_down(
    database_dsn: str, amqp_url: str, wait_until: Callable[..., Awaitable[Any]]
) -> None:
    async with TCPProxy() as proxy, running_service(database_dsn, proxy.url(amqp_url)) as svc:

        async def connected() -> bool:
            return bool(svc.ctx.broker.is_connected)

        await wait_until(connected)
        await proxy.close()

        async def broker_reported_down() -> dict[str, Any] | None:
            response = await svc.client.get("/health/ready")
            body: dict[str, Any] = response.json()
            return body if body["checks"]["broker"] == "unavailable" else None

        body = await wait_until(broker_reported_down)
        response = await svc.client.get("/health/ready")
        assert response.status_code == 200
        assert body["status"] == "ok"
        assert body["checks"]["database"] == "ok"


@pytest.mark.asyncio(loop_scope="session")
async def test_consumers_run_when_their_queue_exists_with_other_arguments(
    database_dsn: str,
    amqp_url: str,
    broker: Broker,
    queue_name: str,
    wait_until: Callable[..., Awaitable[Any]],
) -> None:
    # Declared by an older version with other arguments (a classic queue, no delivery limit).
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue_name, durable=True)
    handler = Handled(queue_name)

    async with running_service(
        database_dsn, amqp_url, consumers=consumer_of(queue_name, handler)
    ) as svc:
        await wait_until(lambda: consumers_running(svc))
        sent = await publish_gadget(broker)

        async def handled() -> bool:
            return sent.id in handler.ids

        await wait_until(handled)
        ready = (await svc.client.get("/health/ready")).json()
        assert ready["checks"]["queue_arguments_differ"] == [queue_name]


@pytest.mark.asyncio(loop_scope="session")
async def test_consumers_start_after_the_connection_drops_during_queue_declaration(
    database_dsn: str,
    amqp_url: str,
    broker: Broker,
    queue_name: str,
    wait_until: Callable[..., Awaitable[Any]],
) -> None:
    handler = Handled(queue_name)
    async with TCPProxy() as proxy:
        factory = consumer_of(queue_name, handler)
        drops: list[asyncio.Task[None]] = []

        def dropping_factory(ctx: ServiceContext) -> list[Any]:
            # The consumers start right after this returns: cut the line under them.
            drops.append(asyncio.create_task(proxy.disconnect()))
            return factory(ctx)

        async with running_service(
            database_dsn, proxy.url(amqp_url), consumers=dropping_factory
        ) as svc:
            await wait_until(lambda: consumers_running(svc), within=20)
            sent = await publish_gadget(broker)

            async def handled() -> bool:
                return sent.id in handler.ids

            await wait_until(handled, within=20)
            assert drops


@pytest.mark.asyncio(loop_scope="session")
async def test_broker_down_longer_than_the_watchdog_grace_does_not_stop_the_service(
    database_dsn: str,
    amqp_url: str,
    broker: Broker,
    queue_name: str,
    wait_until: Callable[..., Awaitable[Any]],
) -> None:
    handler = Handled(queue_name)
    async with (
        TCPProxy() as proxy,
        running_service(
            database_dsn, proxy.url(amqp_url), consumers=consumer_of(queue_name, handler)
        ) as svc,
    ):
        await wait_until(lambda: consumers_running(svc))
        await proxy.close()  # the broker is down

        async def broker_seen_down() -> bool:
            return not svc.ctx.broker.is_connected

        await wait_until(broker_seen_down)
        await asyncio.sleep(3 * svc.ctx.watchdog_grace)
        assert svc.exits == []

        await proxy.start()  # the broker is back, on the same port
        await wait_until(lambda: consumers_running(svc), within=20)
        sent = await publish_gadget(broker)

        async def handled() -> bool:
            return sent.id in handler.ids

        await wait_until(handled)
        assert svc.exits == []


@pytest.mark.asyncio(loop_scope="session")
async def test_publisher_only_service_exits_when_its_publishing_channel_stays_closed(
    database_dsn: str, amqp_url: str, wait_until: Callable[..., Awaitable[Any]]
) -> None:
    async with running_service(database_dsn, amqp_url) as svc:

        async def connected() -> bool:
            return bool(svc.ctx.broker.is_connected)

        await wait_until(connected)
        # A channel that is closed while its connection is up (what aio-pika #563 leaves).
        await svc.ctx.broker._publisher.close()

        async def gave_up() -> bool:
            return svc.exits == ["exit"]

        await wait_until(gave_up)


@pytest.mark.asyncio(loop_scope="session")
async def test_http_gets_a_connection_while_consumers_hold_theirs(
    database_dsn: str,
    amqp_url: str,
    broker: Broker,
    queue_name: str,
    wait_until: Callable[..., Awaitable[Any]],
) -> None:
    release = asyncio.Event()
    holding: list[UUID] = []

    async def slow(conn: asyncpg.Connection, message: Message, env: CloudEvent) -> None:
        holding.append(env.id)
        await release.wait()  # keeps its pooled connection, as a burst of slow handlers does
        await conn.execute(
            "INSERT INTO effects (consumer, message_id) VALUES ($1, $2)", queue_name, env.id
        )

    async with running_service(
        database_dsn, amqp_url, consumers=consumer_of(queue_name, slow, prefetch=16)
    ) as svc:
        await wait_until(lambda: consumers_running(svc))
        sent = [await publish_gadget(broker) for _ in range(20)]

        async def saturated() -> bool:
            return len(holding) >= 5

        await wait_until(saturated)
        await asyncio.sleep(0.5)  # let every prefetched message reach the pool
        try:
            async with asyncio.timeout(20):
                ready = await svc.client.get("/health/ready")
                read = await svc.client.get("/api/kerneltest/effects")
        finally:
            release.set()
        assert ready.status_code == 200
        assert read.status_code == 200

        async def all_handled() -> bool:
            async with svc.ctx.pool.acquire() as conn:
                n = await conn.fetchval(
                    "SELECT count(*) FROM effects WHERE consumer = $1", queue_name
                )
            return int(n) == len(sent)

        await wait_until(all_handled, within=30)


@pytest.mark.asyncio(loop_scope="session")
async def test_database_outage_makes_the_service_unready_and_it_recovers_losing_nothing(
    database_dsn: str,
    amqp_url: str,
    broker: Broker,
    queue_name: str,
    channel: Any,
    drain_queue: Callable[..., Awaitable[list[Any]]],
    wait_until: Callable[..., Awaitable[Any]],
) -> None:
    handler = Handled(queue_name)
    dsn = URL(database_dsn)
    async with TCPProxy(dsn.host or "127.0.0.1", dsn.port or 5432) as pg:
        through_proxy = str(dsn.with_host(pg.host).with_port(pg.port))
        async with running_service(
            through_proxy, amqp_url, consumers=consumer_of(queue_name, handler)
        ) as svc:
            await wait_until(lambda: consumers_running(svc))
            before = [await publish_gadget(broker) for _ in range(20)]
            await pg.close()  # PostgreSQL is gone: open connections reset, new ones refused

            async def unready() -> bool:
                return (await svc.client.get("/health/ready")).status_code == 503

            await wait_until(unready)
            during = [await publish_gadget(broker) for _ in range(20)]
            await asyncio.sleep(1.0)  # the consumer meets the outage with messages in hand
            await pg.start()

            async def ready() -> bool:
                return (await svc.client.get("/health/ready")).status_code == 200

            await wait_until(ready, within=20)

            async def all_applied() -> bool:
                async with svc.ctx.pool.acquire() as conn:
                    n = await conn.fetchval(
                        "SELECT count(DISTINCT message_id) FROM effects WHERE consumer = $1",
                        queue_name,
                    )
                return int(n) == len(before) + len(during)

            await wait_until(all_applied, within=40)
            async with svc.ctx.pool.acquire() as conn:
                total = await conn.fetchval(
                    "SELECT count(*) FROM effects WHERE consumer = $1", queue_name
                )
            assert total == len(before) + len(during)  # each effect once
    assert await drain_queue(channel, f"{queue_name}.parking") == []


@pytest.mark.asyncio(loop_scope="session")
async def test_readiness_reports_events_waiting_for_a_queue(
    database_dsn: str, amqp_url: str, clean_outbox: None
) -> None:
    async with running_service(database_dsn, amqp_url) as svc:
        async with svc.ctx.pool.acquire() as conn, conn.transaction():
            await enqueue(conn, GadgetMade(gadget_id=uuid.uuid4()), source="test")
            # What the relay records for an event the broker returned.
            await conn.execute(
                "UPDATE outbox SET last_error = $1, available_at = now() + interval '1 hour'",
                UNROUTABLE_ERROR,
            )

        body = (await svc.client.get("/health/ready")).json()
        assert body["status"] == "ok"
        assert body["outbox"] == {"unroutable_events": 1}


@pytest.mark.asyncio(loop_scope="session")
async def test_a_request_during_a_database_outage_answers_503_with_retry_after_never_500(
    database_dsn: str,
    amqp_url: str,
    wait_until: Callable[..., Awaitable[Any]],
) -> None:
    dsn = URL(database_dsn)
    async with TCPProxy(dsn.host or "127.0.0.1", dsn.port or 5432) as pg:
        through_proxy = str(dsn.with_host(pg.host).with_port(pg.port))
        async with running_service(through_proxy, amqp_url) as svc:
            assert (await svc.client.get("/api/kerneltest/effects")).status_code == 200
            await pg.close()  # open connections reset, new ones refused

            answers = [await svc.client.get("/api/kerneltest/effects") for _ in range(3)]

            for answer in answers:
                assert answer.status_code == 503
                assert answer.headers["content-type"] == "application/problem+json"
                assert answer.headers["retry-after"] == "5"
                assert answer.json()["type"].endswith("database-unavailable")
            await pg.start()

            async def answers_again() -> bool:
                answer = await svc.client.get("/api/kerneltest/effects")
                return answer.status_code == 200

            await wait_until(answers_again, within=20)
