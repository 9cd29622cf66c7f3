"""Dependencies shared by identity's routers."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Query, Request

from bibmon_common.app import get_ctx
from bibmon_identity.usecases.runtime import Runtime, runtime_of


def _runtime(request: Request) -> Runtime:
    return runtime_of(get_ctx(request))


def _pool(request: Request) -> asyncpg.Pool:
    return get_ctx(request).pool


def _origin(request: Request) -> str | None:
    # The client address as uvicorn saw it (behind the gateway: X-Forwarded-For, which
    # uvicorn only honours from trusted proxies).
    return request.client.host if request.client else None


Rt = Annotated[Runtime, Depends(_runtime)]
Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Origin = Annotated[str | None, Depends(_origin)]
# Paging of the list endpoints.
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]
