"""OpenTelemetry: the tracer provider, AMQP and httpx spans (asyncpg if asked), OTLP export if
configured; request spans come from bibmon_common.middleware.ServiceHTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

_configured = False


def configure_telemetry(
    service: str,
    otlp_endpoint: str | None = None,
    exporter: SpanExporter | None = None,
    *,
    db_spans: bool = False,
) -> None:
    """Install a tracer provider once per process; export over OTLP/HTTP only if configured.

    A span per SQL statement (`db_spans`, setting `trace_db_queries`) is off by default: on
    a draft save it cost more CPU than the statements' own work (docs/operations.md,
    "Speed"). Sampling follows the standard OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG
    variables (default: every trace, or as the caller's traceparent says).
    """
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"bibmon-{service}"}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    trace.set_tracer_provider(provider)
    if db_spans:
        # asyncpg calls become child spans of the request or message that made them.
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

        AsyncPGInstrumentor().instrument()
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument()
    _configured = True


# The services' request spans come from bibmon_common.middleware.ServiceHTTP: FastAPI's
# own telemetry stays off (its one span per request cost a fifth of a draft save's CPU).
FASTAPI_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "operation_spans": False,
    "metrics": False,
    "logs": False,
}


def inject_trace_headers(headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the current W3C trace context (traceparent, tracestate) into message headers."""
    carrier: dict[str, Any] = dict(headers or {})
    propagate.inject(carrier)
    return carrier


def extract_trace_context(headers: Mapping[str, Any] | None) -> Context:
    """Read the W3C trace context from message headers (bytes values are decoded).

    Only the headers the propagators read are decoded, not every header of the message.
    """
    carrier: dict[str, str] = {}
    if headers:
        for name in propagate.get_global_textmap().fields:
            value = headers.get(name)
            if value is not None:
                carrier[name] = value.decode() if isinstance(value, bytes) else str(value)
    return propagate.extract(carrier)
