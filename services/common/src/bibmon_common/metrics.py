"""Prometheus metrics of every service, served on the internal `/metrics` (never by the gateway).

Counters are incremented where things happen (HTTP middleware, outbox relay, consumer,
the notifier's sender); gauges that describe stored state (outbox backlog, e-mails
waiting) are read from the database when Prometheus scrapes, so every replica reports
the same numbers and nothing polls in between. One process per container: with several
uvicorn workers in one container each would answer for itself only.

Metric names and labels are a contract with deploy/prometheus/alerts.yml and the
dashboards in docs/operations.md. No label ever holds a person's data or an id: routes
are templates (`/api/responses/surveys/{survey_id}/response`), never paths.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from starlette.types import Scope

log = structlog.get_logger(__name__)

# --- HTTP -----------------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "bibmon_http_requests",
    "HTTP requests answered, by route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "bibmon_http_request_duration_seconds",
    "Time from request to the end of the answer, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# --- outbox ---------------------------------------------------------------------------

OUTBOX_PUBLISHED = Counter(
    "bibmon_outbox_published", "Outbox messages published and confirmed by the broker."
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "bibmon_outbox_publish_failures",
    "Outbox publish attempts that failed (the row stays due), by reason.",
    ["reason"],
)
OUTBOX_UNPUBLISHED = Gauge(
    "bibmon_outbox_unpublished_messages", "Outbox rows not yet published (read at scrape)."
)
OUTBOX_LAG = Gauge(
    "bibmon_outbox_lag_seconds",
    "Age of the oldest unpublished outbox row not waiting for a queue binding; 0 when none"
    " (read at scrape).",
)
OUTBOX_UNROUTABLE = Gauge(
    "bibmon_outbox_unroutable_events",
    "Outbox events waiting because no queue is bound for them yet (read at scrape).",
)

# --- consumers ------------------------------------------------------------------------

MESSAGES_CONSUMED = Counter(
    "bibmon_messages_consumed",
    "Messages taken off a queue and acknowledged, by outcome (processed, duplicate, expired).",
    ["queue", "outcome"],
)
MESSAGES_RETRIED = Counter(
    "bibmon_messages_retried",
    "Messages sent to a retry queue after a handler failure.",
    ["queue", "transient"],
)
MESSAGES_PARKED = Counter(
    "bibmon_messages_parked",
    "Messages moved to the parking queue, by reason.",
    ["queue", "reason"],
)
CONSUMER_UP = Gauge(
    "bibmon_consumer_up", "1 while the queue's consumer is registered with the broker.", ["queue"]
)
BROKER_CONNECTED = Gauge("bibmon_broker_connected", "1 while the AMQP connection is open.")
SCRAPE_ERRORS = Counter(
    "bibmon_metrics_scrape_errors",
    "Gauges that could not be read at scrape (e.g. database down), by source.",
    ["source"],
)

# --- notifier -------------------------------------------------------------------------

EMAILS_SENT = Counter(
    "bibmon_emails_sent", "E-mails accepted by the SMTP relay, by template.", ["template"]
)
EMAILS_FAILED = Counter(
    "bibmon_emails_failed",
    "E-mails given up (refused, undeliverable, unrenderable, retries exhausted), by template.",
    ["template"],
)
EMAILS_RETRIED = Counter(
    "bibmon_emails_retried",
    "Delivery attempts that failed temporarily and were rescheduled, by template.",
    ["template"],
)
EMAILS_WAITING = Gauge("bibmon_emails_waiting", "E-mail jobs pending delivery (read at scrape).")
EMAILS_OLDEST_WAITING = Gauge(
    "bibmon_emails_oldest_waiting_seconds",
    "Age of the oldest pending e-mail job; 0 when none (read at scrape).",
)
EMAILS_FAILED_STORED = Gauge(
    "bibmon_emails_failed_stored",
    "E-mail jobs in status failed an operator may retry (read at scrape).",
)

# A coroutine run at each scrape to refresh a service's own gauges.
ScrapeHook = Callable[[Any], Awaitable[None]]
SCRAPE_TIMEOUT = 2.0

# The lag leaves out events waiting for a queue binding, as the relay's lag_seconds does:
# an event type nobody consumes yet would otherwise hold it up for a day.
_OUTBOX_STATE = """
SELECT count(*)::bigint AS unpublished,
       count(*) FILTER (WHERE last_error = $1)::bigint AS unroutable,
       coalesce(extract(epoch FROM now() - min(created_at)
                FILTER (WHERE last_error IS DISTINCT FROM $1)), 0)::float8 AS lag
FROM outbox WHERE published_at IS NULL
"""


def add_scrape_hook(ctx: Any, hook: ScrapeHook) -> None:
    """Run `hook(ctx)` at every scrape (a service's own gauges, e.g. the notifier's)."""
    ctx.scrape_hooks.append(hook)


async def _outbox_gauges(ctx: Any) -> None:
    # Imported here: the outbox module imports this one for its counters.
    from bibmon_common.messaging.outbox import UNROUTABLE_ERROR

    async with ctx.pool.acquire() as conn:
        row = await conn.fetchrow(_OUTBOX_STATE, UNROUTABLE_ERROR)
    OUTBOX_UNPUBLISHED.set(row["unpublished"])
    OUTBOX_UNROUTABLE.set(row["unroutable"])
    OUTBOX_LAG.set(row["lag"])


async def refresh(ctx: Any) -> None:
    """Read the gauges that describe current state; a failing source keeps its old value."""
    broker = getattr(ctx, "broker", None)
    BROKER_CONNECTED.set(1 if broker is not None and broker.is_connected else 0)
    for consumer in getattr(ctx, "consumers", []):
        CONSUMER_UP.labels(consumer.queue_name).set(1 if consumer.is_consuming else 0)
    sources: list[tuple[str, ScrapeHook]] = [("outbox", _outbox_gauges)]
    sources += [(getattr(h, "__name__", "hook"), h) for h in ctx.scrape_hooks]
    for name, source in sources:
        try:
            async with asyncio.timeout(SCRAPE_TIMEOUT):
                await source(ctx)
        except Exception as exc:
            SCRAPE_ERRORS.labels(name).inc()
            log.warning("metrics.scrape_failed", source=name, error_type=type(exc).__name__)


def generate_latest() -> bytes:
    """The process's metrics in Prometheus' text format."""
    return _generate_latest(REGISTRY)


router = APIRouter(tags=["health"], include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus scrape endpoint (internal network only; the gateway answers 404)."""
    ctx = getattr(request.app.state, "ctx", None)
    if ctx is not None:
        await refresh(ctx)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def route_template(scope: Scope) -> str:
    """The matched route's full path template; "unmatched" when no route answered.

    Unmatched paths are never labelled with themselves: scanners would explode the
    number of series.
    """
    # FastAPI resolves included routers lazily and keeps the full template here.
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(effective, "path_format", None)
    if isinstance(template, str):
        return template
    route = scope.get("route")
    relative = getattr(route, "path", None)
    if not isinstance(relative, str):
        return "unmatched"
    # The route's path is relative to its router's prefix: keep the request path's
    # leading segments as that prefix.
    depth = len([s for s in relative.split("/") if s])
    segments = [s for s in str(scope.get("path", "")).split("/") if s]
    if ":path}" in relative or depth > len(segments):
        return relative
    prefix = segments[: len(segments) - depth]
    return "/" + "/".join([*prefix, *[s for s in relative.split("/") if s]])
