"""The one use-case convention: a typed dependencies object per service.

Each service defines a frozen dataclass that extends `ServiceDeps` with its settings and
its own adapters (`SurveysDeps`, `IdentityDeps`, …). The app builds it once at start-up
(`create_service_app(..., deps=...)`), keeps it as `ServiceContext.deps`, and hands it to
the routes through one alias per service:

    Deps = Annotated[SurveysDeps, Depends(deps_of)]

It is passed first to every use case and every message handler. A use case opens its
own transaction (`async with deps.transaction() as conn:`) and returns typed models; a
message handler runs inside the consumer's transaction and gets its connection.
See docs/kernel.md, "Use cases and their dependencies".
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from fastapi import Request

from bibmon_common.clock import Clock

__all__ = ["ServiceDeps", "deps_of", "event_source"]


def event_source(service: str) -> str:
    """The CloudEvents `source` of everything a service enqueues: `bibmon-<service>`."""
    return f"bibmon-{service}"


@dataclass(frozen=True, kw_only=True)
class ServiceDeps:
    """What every service's use cases share: the pool, the clock, the event source."""

    pool: asyncpg.Pool
    clock: Clock
    source: str

    def now(self) -> datetime:
        """The current time as the service's clock tells it (tests freeze it)."""
        return self.clock.now()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside a transaction: the way a use case writes."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn  # type: ignore[misc]  # a pool proxy behaves as a Connection

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection without a transaction: the way a use case only reads."""
        async with self.pool.acquire() as conn:
            yield conn  # type: ignore[misc]


async def deps_of(request: Request) -> Any:
    """FastAPI dependency: the running service's dependencies object (typed by the alias).

    `async def` although it awaits nothing: FastAPI runs a plain `def` dependency in a
    worker thread, a thread hand-off on every request."""
    return request.app.state.ctx.deps
