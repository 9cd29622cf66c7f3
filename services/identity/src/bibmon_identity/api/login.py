"""Login, MFA step, refresh, logout, forgotten password, reset, JWKS."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from bibmon_common.errors import Unauthorized
from bibmon_identity.api.params import Origin
from bibmon_identity.config import IdentitySettings
from bibmon_identity.deps import Deps, IdentityDeps
from bibmon_identity.models import (
    AcceptedOut,
    LoginIn,
    MfaLoginIn,
    MfaRequiredOut,
    PasswordForgottenIn,
    PasswordResetIn,
    RefreshIn,
    TokenOut,
)
from bibmon_identity.usecases import login as login_usecases
from bibmon_identity.usecases import password_reset as reset_usecases
from bibmon_identity.usecases import sessions

router = APIRouter(tags=["auth"])

REFRESH_COOKIE = "__Host-bibmon_refresh"
ACCESS_COOKIE = "__Host-bibmon_access"
DEV_REFRESH_COOKIE = "bibmon_refresh"  # browsers refuse `__Host-` cookies without Secure
DEV_ACCESS_COOKIE = "bibmon_access"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 5.1, ASVS 14.3.2


def _cookie_names(settings: IdentitySettings) -> tuple[str, str]:
    if settings.secure_cookies:
        return REFRESH_COOKIE, ACCESS_COOKIE
    return DEV_REFRESH_COOKIE, DEV_ACCESS_COOKIE


def token_response(
    deps: IdentityDeps, body: dict[str, Any], pair: sessions.TokenPair
) -> JSONResponse:
    """Tokens in the body and as httpOnly, SameSite=Strict cookies for browsers."""
    response = JSONResponse(body, headers=NO_STORE)
    refresh_name, access_name = _cookie_names(deps.settings)
    for name, value, max_age in (
        (refresh_name, pair.refresh_token, pair.refresh_expires_in),
        (access_name, pair.access_token, pair.expires_in),
    ):
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=deps.settings.secure_cookies,
            httponly=True,
            samesite="strict",
        )
    return response


def _clear_cookies(deps: IdentityDeps, response: Response) -> None:
    refresh_name, access_name = _cookie_names(deps.settings)
    for name in (refresh_name, access_name):
        response.delete_cookie(
            name, path="/", secure=deps.settings.secure_cookies, httponly=True, samesite="strict"
        )


def _refresh_token(request: Request, body: RefreshIn | None) -> str | None:
    if body is not None and body.refresh_token:
        return body.refresh_token
    return request.cookies.get(REFRESH_COOKIE) or request.cookies.get(DEV_REFRESH_COOKIE)


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Wrong credentials or session ended (problem+json)"},
    422: {"description": "Invalid input (problem+json with field errors)"},
    429: {"description": "Throttled; see Retry-After (problem+json)"},
}


@router.post(
    "/auth/login",
    response_model=TokenOut | MfaRequiredOut,
    responses=_ERRORS,
    summary="Log in with username and password",
)
async def login(body: LoginIn, deps: Deps, origin: Origin) -> Response:
    """Answer tokens, or {mfa_required, mfa_token} when the user has TOTP."""
    result = await login_usecases.login(
        deps, username=body.username, password=body.password, origin=origin
    )
    if isinstance(result, login_usecases.MfaRequired):
        return JSONResponse(result.body(), headers=NO_STORE)
    return token_response(deps, result.body(), result)


@router.post(
    "/auth/login/mfa",
    response_model=TokenOut,
    responses=_ERRORS,
    summary="Second login step: TOTP or recovery code",
)
async def login_mfa(body: MfaLoginIn, deps: Deps, origin: Origin) -> Response:
    """Exchange the mfa_token and a code for tokens."""
    pair = await login_usecases.login_mfa(
        deps, mfa_token=body.mfa_token, code=body.code, origin=origin
    )
    return token_response(deps, pair.body(), pair)


@router.post(
    "/auth/refresh",
    response_model=TokenOut,
    responses=_ERRORS,
    summary="Rotate the refresh token (body or cookie)",
)
async def refresh(
    request: Request, deps: Deps, origin: Origin, body: RefreshIn | None = None
) -> Response:
    """A new token pair; the old refresh token is spent."""
    token = _refresh_token(request, body)
    if not token:
        raise Unauthorized(sessions.SESSION_ENDED, type_="session-ended")
    pair = await sessions.refresh(deps, refresh_token=token, origin=origin)
    return token_response(deps, pair.body(), pair)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End the session (refresh token from body or cookie)",
)
async def logout(
    request: Request, deps: Deps, origin: Origin, body: RefreshIn | None = None
) -> Response:
    """Revoke the refresh-token family and clear the cookies."""
    await sessions.logout(deps, refresh_token=_refresh_token(request, body), origin=origin)
    response = Response(status_code=status.HTTP_204_NO_CONTENT, headers=NO_STORE)
    _clear_cookies(deps, response)
    return response


@router.post(
    "/auth/password-forgotten",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AcceptedOut,
    summary="Ask for a reset link (always 202)",
)
async def password_forgotten(body: PasswordForgottenIn, deps: Deps, origin: Origin) -> JSONResponse:
    """Always the same answer, whether or not the username and e-mail match (ASVS 6.3.8)."""
    result = await reset_usecases.password_forgotten(
        deps, username=body.username, email=body.email, origin=origin
    )
    return JSONResponse(result.model_dump(), status_code=status.HTTP_202_ACCEPTED, headers=NO_STORE)


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
    summary="Set a password from a reset or activation link",
)
async def password_reset(body: PasswordResetIn, deps: Deps, origin: Origin) -> Response:
    """Single use; ends every session of the user."""
    await reset_usecases.password_reset(
        deps, token=body.token, new_password=body.new_password, code=body.code, origin=origin
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=NO_STORE)


@router.get("/.well-known/jwks.json", summary="Public keys of the access tokens (RFC 7517)")
async def jwks(deps: Deps) -> JSONResponse:
    """Current and previous Ed25519 key."""
    return JSONResponse(await deps.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})
