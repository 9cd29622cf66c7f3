"""Verify identity's access tokens in every service (zero trust) and guard routes by role."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import httpx
import jwt
import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bibmon_common.errors import Forbidden, Unauthorized

log = structlog.get_logger(__name__)

ROLES = ("library_staff", "kb_admin", "researcher")
SCOPE_FULL = "full"
SCOPE_MFA_ENROLMENT = "mfa_enrolment"
SCOPE_ACCOUNT_SETUP = "account_setup"  # first login: e-mail and own password first
ACCESS_TOKEN_TYPE = "at+jwt"  # RFC 9068
ALGORITHMS = ["EdDSA"]  # allow-list; never "none" (ASVS 9.1.2)
AUDIENCES = tuple(
    f"bibmon-{s}" for s in ("identity", "surveys", "responses", "reporting", "notifier")
)

# provider(force_refresh) -> JWKS dict; force_refresh is True after an unknown `kid` (rotation).
JwksProvider = Callable[[bool], Awaitable[dict[str, Any]]]
# revoked(session_id) -> True when identity ended the session (bibmon_common.projections).
RevocationCheck = Callable[[UUID], Awaitable[bool]]
# How long a service remembers an ended session: longer than any access token lives
# (identity's access_token_minutes is at most 60).
REVOCATION_KEPT = timedelta(minutes=65)


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the access token says."""

    user_id: UUID
    roles: frozenset[str]
    organisation_id: UUID | None
    scope: str = SCOPE_FULL
    mfa: bool = False
    token_id: str | None = None
    session_id: UUID | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_role(self, *roles: str) -> bool:
        """True when the principal has any of the roles."""
        return bool(self.roles.intersection(roles))


def http_jwks_provider(
    url: str, *, ttl: float = 300.0, timeout: float = 5.0, min_refresh_interval: float = 30.0
) -> JwksProvider:
    """Fetch identity's JWKS over HTTP, cached for `ttl` seconds (refetched on unknown kid).

    A forced refetch (unknown `kid`: a rotation) happens at most once per
    `min_refresh_interval`, so a flood of tokens with made-up kids cannot make every
    service hammer identity (ASVS 9.1.x; RFC 8725 3.10).
    """
    cache: dict[str, Any] = {"at": 0.0, "jwks": None}
    lock = asyncio.Lock()

    async def provider(force: bool = False) -> dict[str, Any]:
        async with lock:
            age = time.monotonic() - cache["at"]
            stale = cache["jwks"] is None or age > ttl
            if stale or (force and age >= min_refresh_interval):
                async with httpx.AsyncClient(timeout=timeout) as client:
                    resp = await client.get(url)
                    resp.raise_for_status()
                    cache["jwks"] = resp.json()
                    cache["at"] = time.monotonic()
            return dict(cache["jwks"])

    return provider


def file_jwks_provider(
    path: str, *, ttl: float = 60.0, min_refresh_interval: float = 1.0
) -> JwksProvider:
    """Read identity's JWKS from a mounted file (a Secret or ConfigMap), reread after `ttl`.

    Kubernetes updates a mounted file in place when its object changes, so a new key
    reaches the services without a restart; an unknown `kid` rereads it, at most once per
    `min_refresh_interval`, so a flood of made-up kids costs no file read each.
    """
    cache: dict[str, Any] = {"at": float("-inf"), "jwks": None}

    async def provider(force: bool = False) -> dict[str, Any]:
        age = time.monotonic() - cache["at"]
        if cache["jwks"] is None or age > ttl or (force and age >= min_refresh_interval):
            text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
            jwks = json.loads(text)
            if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
                raise ValueError(f"{path} holds no JWKS (an object with a `keys` list)")
            cache["jwks"], cache["at"] = jwks, time.monotonic()
        return dict(cache["jwks"])

    return provider


def jwks_provider_for(url: str) -> JwksProvider:
    """The provider for `jwks_url`: https:// or http:// (in-cluster), or file:///path."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"jwks_url {url!r}: a file URL names no host (file:///path)")
        return file_jwks_provider(unquote(parts.path))
    if parts.scheme in ("http", "https"):
        return http_jwks_provider(url)
    raise ValueError(f"jwks_url {url!r}: use https://, http:// or file:///")


class JWTVerifier:
    """Checks signature (kid from the JWKS), typ, iss, aud, exp/nbf; builds a Principal."""

    def __init__(
        self,
        jwks_provider: JwksProvider,
        *,
        issuer: str,
        audience: str,
        revoked: RevocationCheck | None = None,
        cache_size: int = 4096,
        cache_seconds: float = 60.0,
    ) -> None:
        self._jwks = jwks_provider
        self.issuer = issuer
        self.audience = audience
        self._revoked = revoked
        # Tokens whose signature and claims were checked: token -> (principal, good until
        # on the monotonic clock). An entry lives until the token expires, at most
        # `cache_seconds` (so a key withdrawn from the JWKS stops working as before, within
        # the JWKS cache time and this); the revocation check runs on every request.
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._cache_size = cache_size
        self._cache_seconds = cache_seconds

    async def _key_for(self, kid: str) -> Any:
        for force in (False, True):
            try:
                jwks = await self._jwks(force)
            except Exception as exc:  # identity unreachable: fail closed
                log.warning("auth.jwks_unavailable", error=type(exc).__name__)
                raise Unauthorized("Token keys are unavailable; try again shortly.") from exc
            for jwk in jwks.get("keys", []):
                if jwk.get("kid") == kid:
                    return jwt.PyJWK(jwk).key
        raise Unauthorized("Unknown signing key.")

    async def verify(self, token: str) -> Principal:
        """Verify a bearer token; raise Unauthorized with a generic message when it fails.

        A token verified before is taken from a small cache (until it expires, at most
        `cache_seconds`); whether its session was revoked is asked every time.
        """
        cached = self._verified.get(token)
        if cached is not None and time.monotonic() < cached[1]:
            principal = cached[0]
        else:
            principal = await self._verify_signed(token)
            self._remember(token, principal)
        # Logout, a disabled account or changed roles end the session at once (ASVS 7.4.1),
        # not when its last access token expires.
        assert principal.session_id is not None
        if self._revoked is not None and await self._revoked(principal.session_id):
            raise Unauthorized("The session has ended; log in again.", type_="session-ended")
        return principal

    def _remember(self, token: str, principal: Principal) -> None:
        if self._cache_size <= 0:
            return
        # `exp` is wall-clock seconds; the cache counts on the monotonic clock.
        left = float(principal.claims["exp"]) - time.time()
        if left <= 0:
            return
        if len(self._verified) >= self._cache_size:
            now = time.monotonic()
            for key in [k for k, (_, until) in self._verified.items() if until <= now]:
                del self._verified[key]
            while len(self._verified) >= self._cache_size:  # the oldest entries go first
                del self._verified[next(iter(self._verified))]
        self._verified[token] = (principal, time.monotonic() + min(left, self._cache_seconds))

    async def _verify_signed(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("Malformed token.") from exc
        if header.get("typ") != ACCESS_TOKEN_TYPE or header.get("alg") not in ALGORITHMS:
            raise Unauthorized("Not an access token.")
        key = await self._key_for(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "sid"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Token expired.", type_="token-expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid token.") from exc
        try:
            org = claims.get("org")
            principal = Principal(
                user_id=UUID(claims["sub"]),
                roles=frozenset(claims.get("roles", [])),
                organisation_id=UUID(org) if org else None,
                scope=str(claims.get("scope", SCOPE_FULL)),
                mfa="otp" in claims.get("amr", []),
                token_id=claims.get("jti"),
                session_id=UUID(str(claims["sid"])),
                claims=claims,
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise Unauthorized("Invalid token claims.") from exc
        return principal


_bearer = HTTPBearer(auto_error=False)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
# The caller, once worked out, for the rest of the request (several dependencies of one
# route may ask).
_PRINCIPAL_KEY = "bibmon.principal"


def _verifier(request: Request) -> JWTVerifier:
    verifier = getattr(request.app.state, "jwt_verifier", None)
    if verifier is None:
        raise RuntimeError("app.state.jwt_verifier is not set")
    return verifier


async def _caller(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal | None:
    """The caller of the request when a valid token is present (bearer or the web client's
    cookie), else None; an invalid token fails."""
    if _PRINCIPAL_KEY in request.scope:
        cached: Principal | None = request.scope[_PRINCIPAL_KEY]
        return cached
    if credentials is not None and credentials.scheme.lower() == "bearer":
        token: str | None = credentials.credentials
    else:
        token = request.cookies.get("__Host-bibmon_access") or request.cookies.get("bibmon_access")
    principal = None
    if token:
        principal = await _verifier(request).verify(token)
        structlog.contextvars.bind_contextvars(user_id=str(principal.user_id))
    request.scope[_PRINCIPAL_KEY] = principal
    return principal


def _logged_in(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthorized("Log in first.")
    return principal


def _with_full_scope(principal: Principal | None) -> Principal:
    principal = _logged_in(principal)
    if principal.scope == SCOPE_ACCOUNT_SETUP:
        raise Forbidden(
            "Set an e-mail address and a new password first.", type_="account-setup-required"
        )
    if principal.scope != SCOPE_FULL:
        raise Forbidden(
            "Two-factor authentication must be set up first.", type_="mfa-enrolment-required"
        )
    return principal


# Each dependency below reads the token itself rather than depending on another: FastAPI
# resolves a chain of dependencies anew on every request, and on a draft save a chain of
# seven cost more than the JWT check.
async def optional_principal(request: Request, credentials: Bearer) -> Principal | None:
    """The caller when a valid token is present, else None (an invalid token still fails)."""
    return await _caller(request, credentials)


async def any_scope_principal(request: Request, credentials: Bearer) -> Principal:
    """The caller, whatever the token's scope (for MFA enrolment routes)."""
    return _logged_in(await _caller(request, credentials))


async def current_principal(request: Request, credentials: Bearer) -> Principal:
    """The caller with a full-scope token."""
    return _with_full_scope(await _caller(request, credentials))


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency factory: the caller, with a full-scope token, must hold one of `roles`."""

    async def dependency(request: Request, credentials: Bearer) -> Principal:
        return check_roles(_with_full_scope(await _caller(request, credentials)), *roles)

    return dependency


def check_roles(principal: Principal, *roles: str) -> Principal:
    """`principal` when it holds one of `roles`; Forbidden otherwise."""
    if not principal.has_role(*roles):
        raise Forbidden("Your role does not allow this.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
AnyScopePrincipal = Annotated[Principal, Depends(any_scope_principal)]
KbAdmin = Annotated[Principal, Depends(require_roles("kb_admin"))]
Researcher = Annotated[Principal, Depends(require_roles("researcher", "kb_admin"))]


def service_token(secret: str, service: str, *, now: float | None = None) -> str:
    """A short-lived HMAC token one service shows another on an internal call (ASVS 8.3.3)."""
    ts = int(now if now is not None else time.time())
    mac = hmac.new(secret.encode(), f"{service}:{ts}".encode(), hashlib.sha256).hexdigest()
    return f"{service}:{ts}:{mac}"


def verify_service_token(secret: str, token: str, *, max_age: int = 60) -> str:
    """Return the calling service's name when the token is genuine and fresh."""
    try:
        service, ts_text, mac = token.split(":", 2)
        ts = int(ts_text)
    except ValueError as exc:
        raise Unauthorized("Malformed service token.") from exc
    expected = hmac.new(secret.encode(), f"{service}:{ts}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, mac) or abs(time.time() - ts) > max_age:
        raise Unauthorized("Invalid service token.")
    return service
