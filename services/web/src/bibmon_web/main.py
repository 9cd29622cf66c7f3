"""The web client's app: pages over the other services' APIs, no database of its own."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote

import httpx
import structlog
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bibmon_common.logging import configure_logging
from bibmon_web import csrf, i18n
from bibmon_web.client import ApiError, NotLoggedIn, ServiceUnavailable
from bibmon_web.config import WebSettings
from bibmon_web.pages import CsrfFailed, make_environment, redirect, render
from bibmon_web.routes import (
    account,
    admin,
    admin_emails,
    admin_users,
    assets,
    contact_person,
    public,
    questionnaires,
    reports,
    research,
)

log = structlog.get_logger(__name__)


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the web client."""
    settings = settings or WebSettings()
    configure_logging("web", settings.log_level, settings.log_json)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            timeout=settings.api_timeout_seconds,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        ) as http:
            app.state.http = http
            yield

    app = FastAPI(
        title="Bibliotheekmonitor — web",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.templates = make_environment()

    @app.middleware("http")
    async def session_cookies(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Identity's renewed session cookies and our CSRF cookie go out with any answer.
        request.state.set_cookies = []
        new_csrf = csrf.ensure_token(request, settings.secure_cookies)
        response = await call_next(request)
        for header in request.state.set_cookies:
            response.headers.append("set-cookie", header)
        if new_csrf:
            response.set_cookie(
                csrf.cookie_name(settings.secure_cookies),
                request.state.csrf_token,
                path="/",
                secure=settings.secure_cookies,
                httponly=True,
                samesite="strict",
            )
        if response.headers.get("content-type", "").startswith("text/html"):
            # Pages hold personal data and a CSRF token: never from a shared cache.
            response.headers["Cache-Control"] = "no-store"
            response.headers.setdefault("Vary", "Cookie")
        return response

    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        target = request.url.path
        if request.method != "GET" and request.headers.get("referer"):
            target = request.url.path
        return redirect(request, f"/inloggen?terug={quote(target, safe='')}")

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, exc: ServiceUnavailable) -> Response:
        return render(request, "error.html", 503, kind="unavailable")

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return render(request, "error.html", 403, kind="csrf")

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        # A first-login token reaches only its own step: lead the person there.
        if exc.status == 403 and exc.type.endswith("/account-setup-required"):
            return redirect(request, "/account/instellen")
        if exc.status == 403 and exc.type.endswith("/mfa-enrolment-required"):
            return redirect(request, "/account/tweestapsverificatie")
        kind = {403: "forbidden", 404: "not_found"}.get(exc.status, "api")
        return render(request, "error.html", exc.status, kind=kind, detail=exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        kind = {404: "not_found", 405: "not_found"}.get(exc.status_code, "api")
        return render(request, "error.html", exc.status_code, kind=kind, detail="")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return render(request, "error.html", 400, kind="api", detail="")

    @app.get("/health/live", include_in_schema=False)
    async def live() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/health/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.include_router(assets.router)
    app.include_router(public.router)
    app.include_router(questionnaires.router)
    app.include_router(account.router)
    app.include_router(admin.router)
    app.include_router(reports.router)
    app.include_router(research.router)
    app.include_router(admin_users.router)
    app.include_router(admin_emails.router)
    app.include_router(contact_person.router)
    log.info("web.configured", languages=i18n.LANGUAGES)
    return app
