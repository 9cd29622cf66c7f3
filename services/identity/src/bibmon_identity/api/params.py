"""Request parameters shared by identity's routers: the client address and paging.

The service's dependencies come from `bibmon_identity.deps.Deps`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request


def _origin(request: Request) -> str | None:
    # The client address as uvicorn saw it (behind the gateway: X-Forwarded-For, which
    # uvicorn only honours from trusted proxies).
    return request.client.host if request.client else None


Origin = Annotated[str | None, Depends(_origin)]
# Paging of the list endpoints.
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]
