"""Liveness (the process answers) and readiness (database and broker reachable)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    """The process is up; orchestrators restart it when this fails."""
    return {"status": "ok"}


@router.get("/health/ready", response_model=None)
async def ready(request: Request) -> JSONResponse:
    """Ready for traffic: the database answers and the broker is connected."""
    ctx = request.app.state.ctx
    checks: dict[str, Any] = {}
    try:
        async with asyncio.timeout(2):
            async with ctx.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    broker = ctx.broker
    checks["broker"] = "ok" if broker is not None and broker.is_connected else "unavailable"
    if ctx.consumer_factory is not None and ctx.settings.start_background_workers:
        if not ctx.consumers_started:
            checks["consumers"] = "starting"
        elif not all(consumer.is_consuming for consumer in ctx.consumers):
            checks["consumers"] = "not consuming"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status_code=200 if healthy else 503,
    )
