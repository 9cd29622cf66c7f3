"""One way for tests to run a service for real: its lifespan, its consumers, an HTTP client.

    app = create_app(settings, jwks_provider=keys.provider, clock=FrozenClock(now))
    async with running_service(app, base_url="http://surveys.test") as service:
        await service.client.get("/api/surveys/surveys")
        service.deps.clock  # the FrozenClock given above

The service talks to a real database and a real broker (a fresh database and vhost from
`bibmon_common.testing.db` / `.amqp`); nothing is mocked.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from bibmon_common.app import ServiceContext
from bibmon_common.testing.wait import eventually

__all__ = ["RunningService", "running_service"]


@dataclass(frozen=True)
class RunningService:
    """A started service: its ASGI app, its context, and a client that calls it in-process."""

    app: Any
    ctx: ServiceContext[Any]
    client: httpx.AsyncClient

    @property
    def deps(self) -> Any:
        """The service's dependencies object (typed by each service's own fixtures)."""
        return self.ctx.deps

    def client_from(self, address: str, *, base_url: str | None = None) -> httpx.AsyncClient:
        """Another client whose requests come from `address` (per-address limits)."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        return httpx.AsyncClient(
            transport=transport, base_url=base_url or str(self.client.base_url)
        )


@contextlib.asynccontextmanager
async def running_service(
    app: FastAPI,
    *,
    base_url: str,
    client_address: str = "127.0.0.1",
    wait_for_consumers: bool = True,
    startup_timeout: float = 60,
    shutdown_timeout: float = 30,
    raise_app_exceptions: bool = True,
) -> AsyncIterator[RunningService]:
    """Start `app` (migrations as its settings say), wait for its consumers, yield it running."""
    async with LifespanManager(
        app, startup_timeout=startup_timeout, shutdown_timeout=shutdown_timeout
    ) as manager:
        ctx: ServiceContext[Any] = app.state.ctx
        if wait_for_consumers and ctx.settings.start_background_workers:
            await eventually(lambda: _consuming(ctx), within=startup_timeout)
        transport = httpx.ASGITransport(
            app=manager.app,
            client=(client_address, 40000),
            raise_app_exceptions=raise_app_exceptions,
        )
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield RunningService(app=manager.app, ctx=ctx, client=client)


async def _consuming(ctx: ServiceContext[Any]) -> bool:
    # A service without consumers counts as started once its messaging task connected.
    return ctx.consumers_started or (ctx.consumer_factory is None and ctx.broker.is_connected)
