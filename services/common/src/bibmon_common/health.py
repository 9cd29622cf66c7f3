"""Liveness (the process answers) and readiness (the database answers).

The broker is reported, not required: the outbox keeps what a service writes while the
broker is away, so taking every service out of its Kubernetes Service during a broker
restart would only turn a delay into an outage (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bibmon_common.messaging.outbox import unroutable_count

router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    """The process is up; orchestrators restart it when this fails."""
    return {"status": "ok"}


@router.get("/health/ready", response_model=None)
async def ready(request: Request) -> JSONResponse:
    """Ready for traffic when the database answers; broker and consumers are reported."""
    ctx = request.app.state.ctx
    checks: dict[str, Any] = {}
    unroutable: int | None = None
    try:
        async with asyncio.timeout(2):
            async with ctx.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
                checks["database"] = "ok"
                unroutable = await unroutable_count(conn)
    except Exception as exc:
        # A failing count is only a missing report; readiness is the SELECT 1.
        checks.setdefault("database", f"unavailable: {type(exc).__name__}")
    healthy = checks["database"] == "ok"
    broker = ctx.broker
    checks["broker"] = "ok" if broker is not None and broker.is_connected else "unavailable"
    if ctx.consumer_factory is not None and ctx.settings.start_background_workers:
        if not ctx.consumers_started:
            checks["consumers"] = "starting"
        elif not all(consumer.is_consuming for consumer in ctx.consumers):
            checks["consumers"] = "not consuming"
        drift = sorted(q for c in ctx.consumers for q in getattr(c, "argument_drift", ()))
        if drift:
            checks["queue_arguments_differ"] = drift
    body: dict[str, Any] = {"status": "ok" if healthy else "unavailable", "checks": checks}
    if unroutable is not None:
        # Events no queue is bound for yet: kept in the outbox and retried, never dropped.
        body["outbox"] = {"unroutable_events": unroutable}
    return JSONResponse(body, status_code=200 if healthy else 503)
