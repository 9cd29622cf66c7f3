"""The web client's app: pages over the other services' APIs, no database of its own."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bibmon_common.logging import configure_logging
from bibmon_common.middleware import ServiceHTTP
from bibmon_web import csrf, i18n
from bibmon_web.client import ApiError, NotLoggedIn, ServiceUnavailable, open_session
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

# As the gateway's client_max_body_size: the largest form is a questionnaire's.
MAX_BODY_BYTES = 1_048_576


class SessionCookies:
    """Identity's renewed session cookies and our CSRF cookie go out with any answer; pages
    are never stored by a shared cache.

    Pure ASGI (not `@app.middleware("http")`, whose BaseHTTPMiddleware runs the rest of
    the request in a task of its own and streams the answer through a memory channel).
    """

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.secure = settings.secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        request.state.set_cookies = []
        new_csrf = csrf.ensure_token(request, self.secure)

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for header in request.state.set_cookies:
                    headers.append("set-cookie", header)
                if new_csrf:
                    headers.append(
                        "set-cookie", _csrf_cookie(request.state.csrf_token, self.secure)
                    )
                if headers.get("content-type", "").startswith("text/html"):
                    # Pages hold personal data and a CSRF token: never from a shared cache.
                    headers["Cache-Control"] = "no-store"
                    if "vary" not in headers:
                        headers["Vary"] = "Cookie"
            await send(message)

        await self.app(scope, receive, send_with_cookies)


def _csrf_cookie(token: str, secure: bool) -> str:
    """The Set-Cookie header of the CSRF cookie (HttpOnly, SameSite=Strict, whole site)."""
    carrier = Response()
    carrier.set_cookie(
        csrf.cookie_name(secure), token, path="/", secure=secure, httponly=True, samesite="strict"
    )
    return carrier.headers["set-cookie"]


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the web client."""
    settings = settings or WebSettings()
    configure_logging("web", settings.log_level, settings.log_json)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_session(settings) as http:
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

    app.add_middleware(SessionCookies, settings=settings)
    app.add_middleware(ServiceHTTP, service="web", max_bytes=MAX_BODY_BYTES, no_store=False)

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
