"""structlog JSON logging for the service, uvicorn and aio-pika alike, without secrets or PII."""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog
from opentelemetry import trace
from structlog.testing import LogCapture

# Keys whose values never reach a log line (ASVS 16.2.5, BIO2 8.15.02): passwords, tokens,
# TOTP codes and secrets, cookies, e-mail addresses, names and answers.
SENSITIVE_KEYS = frozenset(
    {
        "password",
        "new_password",
        "token",
        "access_token",
        "refresh_token",
        "mfa_token",
        "authorization",
        "cookie",
        "set-cookie",
        "code",
        "secret",
        "totp_secret",
        "email",
        "recipient_email",
        "recipient",
        "name",
        "recipient_name",
        "answers",
    }
)
_SENSITIVE_FRAGMENTS = ("password", "token", "secret", "email", "cookie", "authorization")
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
REDACTED = "[redacted]"


@functools.lru_cache(maxsize=4096)
def _is_sensitive(key: str) -> bool:
    lowered = key.lower()
    if lowered.endswith("_id") or lowered.endswith("_ids"):
        return False  # ids are pseudonyms, e.g. email_id, user_id (never the value itself)
    return lowered in SENSITIVE_KEYS or any(f in lowered for f in _SENSITIVE_FRAGMENTS)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        # Most values hold no "@" at all: skip the regular expression for those.
        return EMAIL_RE.sub(REDACTED, value) if "@" in value else value
    if isinstance(value, dict):
        return {k: REDACTED if _is_sensitive(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact_sensitive(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace sensitive keys' values and any e-mail address in strings."""
    for key in list(event_dict):
        event_dict[key] = REDACTED if _is_sensitive(key) else _scrub(event_dict[key])
    return event_dict


def add_trace_ids(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Bind the current OpenTelemetry trace and span id, so logs and traces join up."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    return event_dict


_threshold = logging.INFO


class _Logger(structlog.BoundLoggerBase):
    """The service's own logger: a level below the configured one costs one comparison.

    structlog's stdlib `BoundLogger` runs every processor before the stdlib logger drops
    a filtered line, and hands each kept line through a `logging.Handler`; on a draft
    save that one line was a tenth of the request's CPU. This wrapper filters first and
    writes the rendered line itself (`_StdoutLogger`); stdlib loggers (uvicorn, aio-pika,
    alembic) still reach the same renderer through the root handler.
    """

    def _log(self, level: int, method: str, event: str | None, kw: dict[str, Any]) -> Any:
        if level < _threshold and not _capturing(self._processors):
            return None
        return self._proxy_to_logger(method, event, **kw)

    def debug(self, event: str | None = None, **kw: Any) -> Any:
        return self._log(10, "debug", event, kw)

    def info(self, event: str | None = None, **kw: Any) -> Any:
        return self._log(20, "info", event, kw)

    def warning(self, event: str | None = None, **kw: Any) -> Any:
        return self._log(30, "warning", event, kw)

    warn = warning

    def error(self, event: str | None = None, **kw: Any) -> Any:
        return self._log(40, "error", event, kw)

    def exception(self, event: str | None = None, **kw: Any) -> Any:
        kw.setdefault("exc_info", True)
        return self._log(40, "error", event, kw)

    def critical(self, event: str | None = None, **kw: Any) -> Any:
        return self._log(50, "critical", event, kw)


def _capturing(processors: Iterable[Any]) -> bool:
    """Inside `structlog.testing.capture_logs`: tests see every line, whatever the level
    their service runs at (they run quiet, at WARNING, and look for INFO lines)."""
    return (
        isinstance(processors, list) and bool(processors) and isinstance(processors[-1], LogCapture)
    )


class _StdoutLogger:
    """Writes each rendered line to the current `sys.stdout` (looked up per line, so a
    test's captured output or a replaced stream gets it) and flushes, as a
    `logging.StreamHandler` does."""

    def __init__(self, name: str = "") -> None:
        self.name = name

    def msg(self, message: str) -> None:
        stream = sys.stdout
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = warn = error = exception = critical = msg


def _logger_factory(*args: Any) -> _StdoutLogger:
    return _StdoutLogger(str(args[0]) if args else "")


def configure_logging(service: str, level: str = "INFO", json: bool = True) -> None:
    """Route structlog and stdlib logging (uvicorn, aio-pika) through one JSON renderer."""
    global _threshold
    _threshold = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
        redact_sensitive,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    processors: list[Any] = [*shared, structlog.processors.format_exc_info, renderer]
    if structlog.is_configured():
        # Loggers cached on first use hold the configured list itself: refill that list,
        # so a second app in one process (tests) and structlog's capture_logs reach them.
        current: list[Any] = structlog.get_config()["processors"]
        current[:] = processors
        processors = current
    structlog.configure(
        processors=processors,
        logger_factory=_logger_factory,
        wrapper_class=_Logger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aio_pika", "aiormq"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    # aio-pika and aiormq are chatty at INFO about every reconnect attempt; httpx writes a
    # line for every call between services (the web client makes several per page), which
    # the called service's own log and the trace already show.
    for name in ("aiormq", "aio_pika", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)
    structlog.contextvars.bind_contextvars(service=service)
