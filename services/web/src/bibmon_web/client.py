"""Calls to the other services' public APIs with the user's own token.

The browser holds identity's HttpOnly, SameSite=Strict session cookies (set by identity,
passed through by us); every call carries the access token from that cookie and the
person's own address in X-Forwarded-For, so identity throttles and audits the person,
not the web service. An expired access token is renewed once with the refresh cookie,
and the new cookies go back to the browser.

The calls go over one aiohttp session per process (`open_session`): httpx spent more CPU
on its connection pool (a readability poll of every pooled connection per request) than
the page's own rendering (docs/adr/0027-aiohttp-for-the-web-clients-calls.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog
from fastapi import Request
from multidict import CIMultiDictProxy

from bibmon_web.config import WebSettings

log = structlog.get_logger(__name__)

ACCESS_COOKIES = ("__Host-bibmon_access", "bibmon_access")
REFRESH_COOKIES = ("__Host-bibmon_refresh", "bibmon_refresh")


class NotLoggedIn(Exception):
    """No session, or it ended: the person must log in (again)."""


class ServiceUnavailable(Exception):
    """A service did not answer or answered 5xx."""


@dataclass
class ApiError(Exception):
    """A problem+json answer (4xx) the page shows to the person."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        return str(self.body.get("detail") or self.body.get("title") or "")

    @property
    def errors(self) -> list[dict[str, Any]]:
        errors = self.body.get("errors")
        return list(errors) if isinstance(errors, list) else []

    @property
    def type(self) -> str:
        return str(self.body.get("type") or "")


@dataclass(frozen=True)
class ServiceResponse:
    """A service's whole answer (read before the connection goes back to the pool)."""

    status_code: int
    headers: CIMultiDictProxy[str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode()

    def set_cookies(self) -> list[str]:
        return self.headers.getall("set-cookie", [])


def open_session(settings: WebSettings) -> aiohttp.ClientSession:
    """The process's session for calls to the services (close it at shutdown)."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=settings.api_timeout_seconds),
        connector=aiohttp.TCPConnector(limit=100, limit_per_host=50, ttl_dns_cache=300),
        # The browser's cookies never go into a shared jar: each call carries its own token.
        cookie_jar=aiohttp.DummyCookieJar(),
        raise_for_status=False,
    )


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, str]] | None:
    """Query parameters: None left out, booleans as true/false, a list as the parameter
    repeated."""
    if not params:
        return None
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            pairs.append(
                (key, ("true" if item else "false") if isinstance(item, bool) else str(item))
            )
    return pairs


def cookie(request: Request, names: tuple[str, ...]) -> str | None:
    """The first of the named cookies the browser sent."""
    for name in names:
        value = request.cookies.get(name)
        if value:
            return value
    return None


class Api:
    """One page request's view of the platform: the person's token, address, request id."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.http: aiohttp.ClientSession = request.app.state.http
        self.settings: WebSettings = request.app.state.settings
        self.access = cookie(request, ACCESS_COOKIES)
        self.refresh_token = cookie(request, REFRESH_COOKIES)
        self._refreshed = False

    @property
    def has_session(self) -> bool:
        return bool(self.access or self.refresh_token)

    def _headers(self, authenticated: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        client = self.request.client
        if client is not None:
            headers["X-Forwarded-For"] = client.host
        request_id = self.request.headers.get("x-request-id")
        if request_id:
            headers["X-Request-ID"] = request_id
        if authenticated and self.access:
            headers["Authorization"] = f"Bearer {self.access}"
        return headers

    def pass_cookies(self, response: ServiceResponse) -> None:
        """Hand identity's Set-Cookie headers on to the browser."""
        pending: list[str] = self.request.state.set_cookies
        pending.extend(response.set_cookies())

    async def _send(
        self,
        method: str,
        url: str,
        authenticated: bool,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> ServiceResponse:
        try:
            async with self.http.request(
                method,
                url,
                headers=self._headers(authenticated),
                json=json,
                params=_query(params),
                allow_redirects=False,
            ) as answer:
                content = await answer.read()
                return ServiceResponse(answer.status, answer.headers, content)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("api.unreachable", url=url, error=type(exc).__name__)
            raise ServiceUnavailable(url) from exc

    async def refresh(self) -> bool:
        """Renew the session with the refresh cookie; False when it has ended."""
        if self._refreshed or not self.refresh_token:
            return False
        self._refreshed = True
        response = await self._send(
            "POST",
            f"{self.settings.service_url('identity')}/auth/refresh",
            False,
            json={"refresh_token": self.refresh_token},
        )
        if response.status_code != 200:
            return False
        self.pass_cookies(response)
        self.access = response.json()["access_token"]
        self.refresh_token = response.json().get("refresh_token", self.refresh_token)
        return True

    async def raw(
        self,
        method: str,
        service: str,
        path: str,
        *,
        authenticated: bool = True,
        **kwargs: Any,
    ) -> ServiceResponse:
        """The service's answer as is (after renewing an expired session once)."""
        url = f"{self.settings.service_url(service)}{path}"
        if authenticated and not self.access and not await self.refresh():
            raise NotLoggedIn
        response = await self._send(method, url, authenticated, **kwargs)
        if authenticated and response.status_code == 401:
            if not await self.refresh():
                raise NotLoggedIn
            response = await self._send(method, url, authenticated, **kwargs)
            if response.status_code == 401:
                raise NotLoggedIn
        if response.status_code >= 500:
            log.warning("api.error", service=service, status=response.status_code)
            raise ServiceUnavailable(url)
        return response

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        *,
        authenticated: bool = True,
        **kwargs: Any,
    ) -> Any:
        """The JSON body of a 2xx answer; ApiError for a 4xx problem."""
        response = await self.raw(method, service, path, authenticated=authenticated, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise ApiError(response.status_code, body if isinstance(body, dict) else {})
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def get(self, service: str, path: str, **kwargs: Any) -> Any:
        return await self.call("GET", service, path, **kwargs)

    async def me(self) -> dict[str, Any]:
        """The logged-in person (cached for the request)."""
        cached: dict[str, Any] | None = getattr(self.request.state, "me", None)
        if cached is None:
            cached = await self.get("identity", "/me")
            self.request.state.me = cached
        return cached
