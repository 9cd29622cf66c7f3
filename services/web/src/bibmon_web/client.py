"""Calls to the other services' public APIs with the user's own token.

The browser holds identity's HttpOnly, SameSite=Strict session cookies (set by identity,
passed through by us); every call carries the access token from that cookie and the
person's own address in X-Forwarded-For, so identity throttles and audits the person,
not the web service. An expired access token is renewed once with the refresh cookie,
and the new cookies go back to the browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from fastapi import Request

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
        self.http: httpx.AsyncClient = request.app.state.http
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

    def pass_cookies(self, response: httpx.Response) -> None:
        """Hand identity's Set-Cookie headers on to the browser."""
        pending: list[str] = self.request.state.set_cookies
        pending.extend(response.headers.get_list("set-cookie"))

    async def _send(
        self, method: str, url: str, authenticated: bool, **kwargs: Any
    ) -> httpx.Response:
        try:
            return await self.http.request(
                method, url, headers=self._headers(authenticated), **kwargs
            )
        except httpx.HTTPError as exc:
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
    ) -> httpx.Response:
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
