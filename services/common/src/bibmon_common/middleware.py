"""The services' HTTP middleware: one pure ASGI layer for what every request needs.

`ServiceHTTP` does, for each HTTP request:
- the request id: a well-formed `X-Request-ID` from the caller (the gateway sends one),
  otherwise a new random one; returned in the answer and bound to every log line;
- the log context: service, request id and path (structlog context variables);
- `Cache-Control: no-store` on every answer that sets none, and always on answers to
  requests with credentials (ASVS 14.3.2);
- the body limit: more than `max_bytes` (declared or streamed) gets 413 problem+json;
- metrics: requests and latency by method, route template and status;
- the trace: one OpenTelemetry server span, continuing the caller's W3C `traceparent`
  (the gateway passes it on), named and attributed after the semantic conventions
  (`http.request.method`, `http.route`, `url.path`, `http.response.status_code`,
  `error.type`); current while the request runs, so the outbox writes it into events.
Probes and scrapes are neither counted nor traced.

One layer instead of six: each ASGI layer wraps `send` and `receive` again. On a draft
save, separate middlewares for these cost about a tenth of the request's CPU, and
FastAPI's own telemetry (or opentelemetry-instrumentation-fastapi) about a fifth for its
one span; this layer's span costs a few percent (docs/adr/0026-one-http-layer.md).
"""

from __future__ import annotations

import os
import re
import time

import structlog
from asgi_correlation_id import correlation_id
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, StatusCode
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bibmon_common import metrics
from bibmon_common.errors import problem

REQUEST_ID_HEADER = "X-Request-ID"
# What the gateway keeps of a caller's request id (deploy/nginx: `$bibmon_request_id`);
# anything else is replaced, so a log line never carries a caller's arbitrary text.
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
# Probes and scrapes would drown the API's figures: not counted.
_UNCOUNTED_PREFIXES = ("/metrics", "/health/")


def new_request_id() -> str:
    """A random 128-bit request id, 32 hex digits (as nginx's `$request_id`)."""
    return os.urandom(16).hex()


class ServiceHTTP:
    """Request id, log context, no-store, body limit, metrics and the request span in one
    ASGI layer."""

    def __init__(self, app: ASGIApp, service: str, max_bytes: int, no_store: bool = True) -> None:
        """`no_store=False`: leave Cache-Control to the app (the web client decides per
        answer: pages are never stored, its assets are cached)."""
        self.app = app
        self.service = service
        self.max_bytes = max_bytes
        self.no_store = no_store
        # A proxy until configure_telemetry installs the provider, then that provider's.
        self.tracer = trace.get_tracer(__name__)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = credentials = length = None
        carrier: dict[str, str] = {}
        for name, value in scope.get("headers") or ():
            if name == b"traceparent" or name == b"tracestate":
                carrier[name.decode()] = value.decode("latin-1")
            elif name == b"x-request-id":
                request_id = value.decode("latin-1")
            elif name == b"authorization" or (name == b"cookie" and b"bibmon_access" in value):
                credentials = True
            elif name == b"content-length":
                length = value
        if request_id is None or not _WELL_FORMED_ID.fullmatch(request_id):
            request_id = new_request_id()
        correlation_id.set(request_id)
        path = scope.get("path", "")
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            service=self.service, request_id=request_id, path=path
        )
        status = 500  # what the client gets when the app raises before answering
        received = 0
        too_large = length is not None and length.isdigit() and int(length) > self.max_bytes

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = MutableHeaders(scope=message)
                headers.append(REQUEST_ID_HEADER, request_id)
                if self.no_store and (credentials or "cache-control" not in headers):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        async def limited_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Frameworks swallow exceptions raised while reading the body, so end
                    # the body here and replace whatever the app answers with a 413.
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            if not too_large:
                await send_wrapper(message)

        async def answer() -> None:
            if not too_large:
                await self.app(scope, limited_receive, guarded_send)
            if too_large:
                await self._reject(scope, receive, send_wrapper)

        if path.startswith(_UNCOUNTED_PREFIXES):
            await answer()
            return
        method = scope.get("method", "GET")
        parent = propagate.extract(carrier) if carrier else None
        span = self.tracer.start_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.scheme": scope.get("scheme", "http"),
                "url.path": path,
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        error: str | None = None
        try:
            await answer()
        except BaseException as exc:
            error = type(exc).__qualname__
            span.record_exception(exc)
            raise
        finally:
            otel_context.detach(token)
            template = metrics.route_template(scope)
            metrics.HTTP_REQUESTS.labels(method, template, str(status)).inc()
            metrics.HTTP_DURATION.labels(method, template).observe(time.perf_counter() - started)
            if span.is_recording():
                span.update_name(f"{method} {template}")
                span.set_attribute("http.response.status_code", status)
                if template != "unmatched":
                    span.set_attribute("http.route", template)
                if error is not None or status >= 500:
                    span.set_attribute("error.type", error or str(status))
                    span.set_status(StatusCode.ERROR)
            span.end()

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413,
            "Request body too large",
            detail=f"The request body may be at most {self.max_bytes} bytes.",
            type_="body-too-large",
        )
        await response(scope, receive, send)
