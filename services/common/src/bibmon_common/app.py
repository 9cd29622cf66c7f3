"""One factory builds every service's FastAPI app with the same wiring and lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

import asyncpg
import structlog
from fastapi import APIRouter, Depends, FastAPI, Request

from bibmon_common import health, metrics
from bibmon_common.auth import AUDIENCES, JwksProvider, JWTVerifier, jwks_provider_for
from bibmon_common.clock import Clock, clock_from_settings
from bibmon_common.db import create_pool, forget_reservation, migrate, reserve_for_requests
from bibmon_common.deps import ServiceDeps, event_source
from bibmon_common.docs_ui import install_docs
from bibmon_common.errors import document_problems, install_error_handlers
from bibmon_common.logging import configure_logging
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.outbox import OutboxRelay
from bibmon_common.middleware import ServiceHTTP
from bibmon_common.projections import RevokedSessions, is_session_revoked
from bibmon_common.settings import ServiceSettings
from bibmon_common.telemetry import FASTAPI_TELEMETRY, configure_telemetry

log = structlog.get_logger(__name__)

DEFAULT_MAX_BODY_BYTES = 1_048_576  # 1 MiB, as the gateway's client_max_body_size


D = TypeVar("D", bound=ServiceDeps)
DepsFactory = Callable[[asyncpg.Pool, Clock], D]


@dataclass
class ServiceContext(Generic[D]):
    """What a running service holds: its dependencies, broker, outbox relay, consumers.

    `deps` is the service's typed dependencies object (bibmon_common.deps), built once at
    start-up; use cases and message handlers get it, never the context.
    """

    service: str
    settings: Any
    pool: asyncpg.Pool
    deps: D
    broker: Any = None
    relay: Any = None
    consumers: list[Any] = field(default_factory=list)
    consumer_factory: Callable[[ServiceContext[D]], Sequence[Any]] | None = None
    consumers_started: bool = False
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    # Callables run at each Prometheus scrape (bibmon_common.metrics.add_scrape_hook).
    scrape_hooks: list[Callable[[ServiceContext[Any]], Awaitable[None]]] = field(
        default_factory=list
    )
    # The broker watchdog (see broker_watchdog); tests shorten it and record the exit.
    watchdog_interval: float = 10.0
    watchdog_grace: float = 60.0
    on_watchdog_exit: Callable[[], None] = field(default=lambda: _terminate_process())

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run a background task that is cancelled on shutdown."""
        task: asyncio.Task[Any] = asyncio.create_task(coro, name=name)
        self.tasks.append(task)
        return task


Hook = Callable[[ServiceContext[Any]], Awaitable[None]]


async def _start_messaging(ctx: ServiceContext[Any]) -> None:
    """Connect to the broker and start every consumer, retrying each step until it runs.

    The service serves HTTP meanwhile (the outbox keeps what it writes); every failure is
    logged, none ends this task.
    """
    delay = 0.5
    while True:
        try:
            await ctx.broker.connect()
            break
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("broker.connect_failed", error=type(exc).__name__, retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
    # Publisher-only services (identity) need the watchdog for their publishing channel.
    ctx.spawn(broker_watchdog(ctx), name=f"{ctx.service}-broker-watchdog")
    if ctx.consumer_factory is not None:
        ctx.consumers = list(ctx.consumer_factory(ctx))
        for consumer in ctx.consumers:
            await _start_consumer(consumer)
        ctx.consumers_started = True
        log.info("consumers.started", count=len(ctx.consumers))


async def _start_consumer(consumer: Any) -> None:
    """Start one consumer; on failure log it, clean up and try again with back-off."""
    delay = 0.5
    while True:
        try:
            await consumer.start()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error(
                "consumer.start_failed",
                queue=getattr(consumer, "queue_name", None),
                error_type=type(exc).__name__,
                error=str(exc),
                retry_in=delay,
            )
            with contextlib.suppress(Exception):
                await consumer.stop(grace_period=1.0)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


def _terminate_process() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


async def broker_watchdog(ctx: ServiceContext[Any]) -> None:
    """Exit the process when, while connected, a channel stays broken for `grace` seconds.

    aio-pika's robust reconnect does not always restore consumers or channels
    (mosquito/aio-pika#231, #563; docs/reliability.md 3(c)); a supervisor restart does,
    and the outbox and inbox make it safe. Time only counts while the connection in
    question is up: a broker that is simply down is no reason to exit (the outbox absorbs
    it, and a restart loop would help nobody).
    """
    broken_for = 0.0
    while True:
        interval = ctx.watchdog_interval
        await asyncio.sleep(interval)
        problem = _broken_channel(ctx)
        if problem is None:
            broken_for = 0.0
            continue
        if problem == "disconnected":
            broken_for = 0.0
            continue
        broken_for += interval
        log.warning("broker.channel_not_restored", what=problem, for_seconds=broken_for)
        if broken_for >= ctx.watchdog_grace:
            log.error("consumers.not_restored", what=problem, after_seconds=broken_for)
            ctx.on_watchdog_exit()
            return


def _broken_channel(ctx: ServiceContext[Any]) -> str | None:
    """What is broken while its connection is up; "disconnected" while one is down."""
    broker = ctx.broker
    if not broker.publish_connection_up:
        return "disconnected"
    if not broker.publisher_open:
        return "publisher"
    if not ctx.consumers_started or not ctx.consumers:
        return None
    if not broker.consume_connection_up:
        return "disconnected"
    missing = [c.queue_name for c in ctx.consumers if not c.is_consuming]
    return f"consumers {','.join(missing)}" if missing else None


def create_service_app(
    settings: ServiceSettings,
    *,
    service: str,
    title: str,
    routers: Sequence[APIRouter],
    migrations_dir: Path,
    description: str = "",
    version: str = "0.1.0",
    deps: Callable[[asyncpg.Pool, Clock], ServiceDeps] | None = None,
    clock: Clock | None = None,
    consumers: Callable[[ServiceContext[Any]], Sequence[Any]] | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    jwks_provider: JwksProvider | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    openapi_tags: list[dict[str, Any]] | None = None,
    revocation_refresh: float | None = None,
) -> FastAPI:
    """Build a service: problem+json errors, health, auth, pool, outbox relay, consumers.

    `deps(pool, clock)` builds the service's dependencies object once the pool is open
    (default: the plain `ServiceDeps`); `clock` replaces the one the settings choose
    (tests pass a `FrozenClock` here, before start-up, never swap it afterwards).
    `revocation_refresh`: check revoked sessions against a copy reloaded every so many
    seconds (`projections.RevokedSessions`) instead of a query per request.
    """
    prefix = f"/api/{service}"
    build_deps = deps or (
        lambda pool, clock: ServiceDeps(pool=pool, clock=clock, source=event_source(service))
    )
    configure_logging(service, settings.log_level, settings.log_json)
    configure_telemetry(service, settings.otlp_endpoint, db_spans=settings.trace_db_queries)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_migrations_on_startup:
            await migrate(migrations_dir, settings.database_url)
        pool = await create_pool(settings.database_url)
        reserve_for_requests(pool)
        ctx: ServiceContext[Any] = ServiceContext(
            service=service,
            settings=settings,
            pool=pool,
            deps=build_deps(pool, clock or clock_from_settings(settings)),
            broker=Broker(settings.amqp_url, connection_name=f"bibmon-{service}"),
            consumer_factory=consumers,
        )
        app.state.ctx = ctx
        app.state.jwt_verifier = _token_verifier(ctx, jwks_provider, revocation_refresh)
        await _start_background(ctx)
        for hook in on_startup:
            await hook(ctx)
        # What start-up made (modules, routes, models, the pool) lives as long as the
        # process: keep it out of the garbage collector's full collections, whose pauses
        # otherwise show in the slowest requests (p99).
        gc.collect()
        gc.freeze()
        log.info("service.started", version=version)
        try:
            yield
        finally:
            log.info("service.stopping")
            await _stop(ctx, on_shutdown)
            log.info("service.stopped")

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        openapi_url=f"{prefix}/openapi.json",
        docs_url=None,  # self-hosted Swagger UI instead (bibmon_common.docs_ui)
        redoc_url=None,
        openapi_tags=openapi_tags,
        telemetry=FASTAPI_TELEMETRY,
    )
    install_docs(app, prefix, title)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    for router in routers:
        app.include_router(router, prefix=prefix)
    app.add_middleware(ServiceHTTP, service=service, max_bytes=max_body_bytes)
    document_problems(app)
    return app


def _token_verifier(
    ctx: ServiceContext[Any], jwks_provider: JwksProvider | None, revocation_refresh: float | None
) -> JWTVerifier:
    """The access-token check of the service: identity's keys, its audience, ended sessions."""
    settings = ctx.settings
    revoked: Any = functools.partial(is_session_revoked, ctx.pool)
    if revocation_refresh is not None:
        revocations = RevokedSessions(ctx.pool, interval=revocation_refresh)
        revoked = revocations.is_revoked
        ctx.spawn(revocations.run(), name=f"{ctx.service}-revoked-sessions")
    return JWTVerifier(
        jwks_provider or jwks_provider_for(settings.jwks_url),
        issuer=settings.jwt_issuer,
        audience=f"bibmon-{ctx.service}",
        revoked=revoked,
    )


async def _start_background(ctx: ServiceContext[Any]) -> None:
    """The outbox relay, then (in the background, retrying) the broker and the consumers."""
    if not ctx.settings.start_background_workers:
        return
    ctx.relay = OutboxRelay(ctx.pool, ctx.broker)
    await ctx.relay.start()
    ctx.spawn(_start_messaging(ctx), name=f"{ctx.service}-messaging")


async def _stop(ctx: ServiceContext[Any], on_shutdown: Sequence[Hook]) -> None:
    """Stop in reverse: the service's hooks, consumers, background tasks, relay, broker, pool."""
    for hook in on_shutdown:
        with contextlib.suppress(Exception):
            await hook(ctx)
    for consumer in ctx.consumers:
        with contextlib.suppress(Exception):
            await consumer.stop()
    for task in ctx.tasks:
        task.cancel()
    await asyncio.gather(*ctx.tasks, return_exceptions=True)
    if ctx.relay is not None:
        with contextlib.suppress(Exception):
            await ctx.relay.stop()
    with contextlib.suppress(Exception):
        await ctx.broker.close()
    forget_reservation(ctx.pool)
    await ctx.pool.close()


# FastAPI runs a dependency written as a plain `def` in a worker thread: every one here is
# `async def`, although none awaits, to stay on the event loop.
async def get_ctx(request: Request) -> ServiceContext[Any]:
    """The running service's context."""
    ctx: ServiceContext[Any] = request.app.state.ctx
    return ctx


async def db_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for one request; the use case opens its own transaction."""
    pool: asyncpg.Pool = request.app.state.ctx.pool
    async with pool.acquire() as conn:
        yield conn  # type: ignore[misc]  # a pool proxy behaves as a Connection


Ctx = Annotated[ServiceContext[Any], Depends(get_ctx)]
DbConn = Annotated[asyncpg.Connection, Depends(db_conn)]

__all__ = [
    "AUDIENCES",
    "Ctx",
    "DbConn",
    "ServiceContext",
    "create_service_app",
    "db_conn",
    "get_ctx",
]


def lazy_app(module_name: str, create: Callable[[], FastAPI]) -> Callable[[str], Any]:
    """A module `__getattr__` that builds `app` on first access (`uvicorn pkg.main:app`).

    Importing the module (tests, the CLI) then reads no environment and configures no
    logging. Use as `__getattr__ = lazy_app(__name__, create_app)`.
    """

    def module_getattr(name: str) -> Any:
        if name == "app":
            app = create()
            vars(sys.modules[module_name])["app"] = app
            return app
        raise AttributeError(name)

    return module_getattr
