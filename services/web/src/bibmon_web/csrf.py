"""CSRF: a double-submit token (cookie + hidden form field), compared in constant time.

The cookie is HttpOnly and SameSite=Strict (`__Host-` with Secure in production, so a
sibling subdomain cannot plant one); the page puts the same value in every form. A
cross-site form post carries neither the cookie (SameSite) nor the value.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

CSRF_FIELD = "csrf_token"


def cookie_name(secure: bool) -> str:
    return "__Host-bibmon_csrf" if secure else "bibmon_csrf"


def token_for(request: Request) -> str:
    """This browser's token (a new one is set on the response when it had none)."""
    token: str = request.state.csrf_token
    return token


def ensure_token(request: Request, secure: bool) -> bool:
    """Put the browser's token (or a new one) on request.state; True when it is new."""
    existing = request.cookies.get(cookie_name(secure))
    if existing and 20 <= len(existing) <= 100:
        request.state.csrf_token = existing
        return False
    request.state.csrf_token = secrets.token_urlsafe(32)
    return True


def valid(request: Request, submitted: object, secure: bool) -> bool:
    """True when the form's token equals the cookie's."""
    expected = request.cookies.get(cookie_name(secure))
    if not expected or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
