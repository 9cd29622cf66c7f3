"""TOTP (RFC 6238) as ASVS 5.0 V6.5 wants it: 30 s steps, ±1 step, SHA-1, 6 digits.

A step is accepted at most once (ASVS 6.5.1): the caller stores the returned step and passes
it back as `last_step`, so a code seen by a shoulder-surfer cannot be replayed.
"""

from __future__ import annotations

import hmac
import time

import pyotp

INTERVAL = 30
DIGITS = 6
VALID_WINDOW = 1
ISSUER = "Bibliotheekmonitor"


def new_secret() -> str:
    """A 160-bit base32 seed from the CSPRNG (ASVS 6.5.3; RFC 4226 recommends 160 bits)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=username, issuer_name=ISSUER
    )


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=4, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def verify(
    secret: str, code: str, *, last_step: int | None, now: float | None = None
) -> int | None:
    """Return the accepted time step for `code`, or None (wrong, expired or replayed)."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = int((time.time() if now is None else now) // INTERVAL)
    otp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(otp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, when: float) -> str:
    """The code for a moment (tests and tooling)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).at(int(when))


__all__ = ["ISSUER", "code_at", "new_secret", "provisioning_uri", "qr_svg", "verify"]
