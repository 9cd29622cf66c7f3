"""Domain exceptions mapped once to RFC 9457 problem+json at the edge."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://bibliotheekmonitor.nl/problems/"


class DomainError(Exception):
    """A rule of the domain was not met; carries what the client needs to know."""

    status: int = 400
    title: str = "Bad request"
    type_: str = "bad-request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        title: str | None = None,
        status: int | None = None,
        type_: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title or self.title)
        self.detail = detail
        if title is not None:
            self.title = title
        if status is not None:
            self.status = status
        if type_ is not None:
            self.type_ = type_
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


class NotFound(DomainError):
    status, title, type_ = 404, "Not found", "not-found"


class Conflict(DomainError):
    status, title, type_ = 409, "Conflict", "conflict"


class Forbidden(DomainError):
    status, title, type_ = 403, "Forbidden", "forbidden"


class Unauthorized(DomainError):
    status, title, type_ = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class InvalidInput(DomainError):
    """Input that parsed but breaks a rule; `errors` names each field."""

    status, title, type_ = 422, "Invalid input", "invalid-input"


class TooManyRequests(DomainError):
    status, title, type_ = 429, "Too many requests", "too-many-requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(max(1, int(retry_after)))})
        super().__init__(detail, **kwargs)


def field_error(field: str, message: str, type_: str = "invalid") -> dict[str, str]:
    """One entry of a problem's `errors` list."""
    return {"field": field, "message": message, "type": type_}


def problem(
    status: int,
    title: str,
    *,
    detail: str | None = None,
    type_: str = "about:blank",
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Build a problem+json response."""
    body: dict[str, Any] = {
        "type": type_ if type_ == "about:blank" or "://" in type_ else PROBLEM_BASE + type_,
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return _ProblemResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class _ProblemResponse(JSONResponse):
    """UTF-8 JSON as usual; ASCII escapes when a detail echoes text UTF-8 cannot encode
    (a lone surrogate a client sent), so answering bad input never fails itself."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


# SQLSTATEs that mean "this input cannot be stored", not "the code is wrong" (class 22).
UNSTORABLE_SQLSTATES = frozenset(
    {
        "22001",  # string_data_right_truncation
        "22003",  # numeric_value_out_of_range
        "22007",  # invalid_datetime_format
        "22008",  # datetime_field_overflow
        "22021",  # character_not_in_repertoire (NUL in text)
        "22P02",  # invalid_text_representation
        "22P05",  # untranslatable_character (\u0000 in jsonb)
    }
)


def is_unstorable_input(exc: BaseException) -> bool:
    """A DataError caused by the value, not by the code: PostgreSQL refused it for one of
    the SQLSTATEs above, or asyncpg could not encode the argument (a lone surrogate, an
    integer beyond the column's range). A wrong Python type passed to a query is a bug."""
    if getattr(exc, "sqlstate", None) in UNSTORABLE_SQLSTATES:
        return True
    return isinstance(exc.__cause__, UnicodeEncodeError | OverflowError)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:] or parts
    return ".".join(parts)


_HTTP_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
}


# What a request meets while PostgreSQL restarts or cannot be reached (asyncpg raises the
# socket's own OSError while connecting, ConnectionDoesNotExistError on a connection the
# server closed under it).
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
)
# What background work meets when the database goes away under a connection it holds:
# the above, and asyncpg's InterfaceError for a connection closed while in use.
DATABASE_LOST: tuple[type[Exception], ...] = (*DATABASE_UNAVAILABLE, asyncpg.InterfaceError)
DATABASE_RETRY_AFTER_SECONDS = 5


def _internal_error(request: Request) -> JSONResponse:
    """The 500 problem: no internals, whatever went wrong (the cause is logged)."""
    return problem(
        500,
        "Internal server error",
        detail="Something went wrong on our side; it has been logged.",
        instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors, validation errors and HTTP errors to problem+json."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem(
            exc.status,
            exc.title,
            detail=exc.detail,
            type_=exc.type_,
            instance=request.url.path,
            errors=exc.errors,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            msg = str(err.get("msg", "invalid"))
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            errors.append(
                {"field": _location(err.get("loc", ())), "message": msg, "type": err.get("type")}
            )
        return problem(
            422,
            "Invalid input",
            detail="One or more fields are invalid.",
            type_="invalid-input",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem(
            exc.status_code,
            _HTTP_TITLES.get(exc.status_code, "Error"),
            detail=detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(asyncpg.exceptions.DataError)
    async def _unstorable(request: Request, exc: asyncpg.exceptions.DataError) -> JSONResponse:
        if not is_unstorable_input(exc):
            # A server bug (e.g. a wrong type passed to a query): a 500 that alerts, logged
            # with the class and SQLSTATE only, since the message may quote the value.
            log.error(
                "http.unhandled_error",
                path=request.url.path,
                error=type(exc).__name__,
                sqlstate=getattr(exc, "sqlstate", None),
            )
            return _internal_error(request)
        # A backstop: input that passed validation but that PostgreSQL (or asyncpg, which
        # raises the same class for an argument it cannot encode) refuses: NUL or a lone
        # surrogate in text or jsonb, a number or date out of the column's range, text that
        # is no valid value of its type. The client's fault, so a 422, not a 500. The
        # message quotes the value, so only the class and SQLSTATE are logged.
        log.warning(
            "http.unstorable_value",
            path=request.url.path,
            error=type(exc).__name__,
            sqlstate=getattr(exc, "sqlstate", None),
        )
        return problem(
            422,
            "Invalid input",
            detail="The input holds a value that cannot be stored.",
            type_="unstorable-value",
            instance=request.url.path,
        )

    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database is restarting or unreachable: a passing state, not a bug. Readiness
        # already says 503; a request says the same, with when to try again.
        log.warning("http.database_unavailable", error_type=type(exc).__name__)
        return problem(
            503,
            "Service temporarily unavailable",
            detail="The database cannot be reached right now; please try again shortly.",
            type_="database-unavailable",
            instance=request.url.path,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _database_unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("http.unhandled_error", path=request.url.path)
        return _internal_error(request)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` lists invalid input field by field.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document say what every error answer is: problem+json.

    FastAPI documents its own `HTTPValidationError` for 422, which this app never sends
    (install_error_handlers); every 4xx and 5xx is a `Problem`, so clients and the
    security suite's schema checks (schemathesis) hold the API to that.
    """
    build = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if done:
            return done[0]
        spec = build()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["Problem"] = PROBLEM_SCHEMA
        content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for item in spec.get("paths", {}).values():
            for operation in item.values():
                responses = operation.get("responses") if isinstance(operation, dict) else None
                if responses is None:
                    continue
                for code, answer in responses.items():
                    if code[:1] in ("4", "5"):
                        answer["content"] = content
                responses.setdefault(
                    "4XX", {"description": "Problem (RFC 9457)", "content": content}
                )
        done.append(spec)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
