"""Forged and misused access tokens: each must be refused by every service (401).

Shared by the in-process tests (tests/security) and the platform test through the
gateway (tests/e2e/test_security_jwt.py), which signs with identity's real key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(issuer: str, audiences: list[str], **overrides: Any) -> dict[str, Any]:
    """Valid claims of a kb_admin with TOTP, as identity issues them."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": issuer,
        "aud": audiences,
        "sub": str(uuid.uuid4()),
        "org": None,
        "roles": ["kb_admin"],
        "scope": "full",
        "amr": ["pwd", "otp"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def sign(key: Ed25519PrivateKey, kid: str, payload: dict[str, Any], **header: Any) -> str:
    return jwt.encode(
        payload, key, algorithm="EdDSA", headers={"kid": kid, "typ": "at+jwt", **header}
    )


def _hs256(secret: bytes, header: dict[str, Any], payload: dict[str, Any]) -> str:
    # PyJWT refuses a public key as HMAC secret, so build it by hand as an attacker would.
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def attacks(key: Ed25519PrivateKey, kid: str, issuer: str, audience: str) -> dict[str, str]:
    """Name -> a token that the service of `audience` must refuse."""
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_raw = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    now = int(time.time())

    def valid(**overrides: Any) -> dict[str, Any]:
        return claims(issuer, [audience], **overrides)

    good = valid()
    genuine_staff = sign(key, kid, valid(roles=["library_staff"]))
    header, _, signature = genuine_staff.split(".")
    hs_header = {"alg": "HS256", "typ": "at+jwt", "kid": kid}
    none_header = {"alg": "none", "typ": "at+jwt", "kid": kid}
    return {
        "alg_none": f"{_b64(json.dumps(none_header).encode())}.{_b64(json.dumps(good).encode())}.",
        "hs256_public_key_pem": _hs256(public_pem, hs_header, good),
        "hs256_public_key_raw": _hs256(public_raw, hs_header, good),
        "hs256_public_key_jwk_x": _hs256(_b64(public_raw).encode(), hs_header, good),
        "another_key_same_kid": sign(Ed25519PrivateKey.generate(), kid, good),
        "tampered_claims": f"{header}.{_b64(json.dumps(good).encode())}.{signature}",
        "expired": sign(key, kid, valid(iat=now - 900, nbf=now - 900, exp=now - 60)),
        "not_yet_valid": sign(key, kid, valid(nbf=now + 120)),
        "wrong_audience": sign(key, kid, claims(issuer, ["bibmon-elsewhere"])),
        "wrong_issuer": sign(key, kid, claims("https://evil.example", [audience])),
        "no_session_id": sign(key, kid, valid(sid=...)),
        "not_an_access_token": sign(key, kid, good, typ="JWT"),
        "unknown_kid": sign(key, f"kid-{uuid.uuid4().hex}", good),
        "garbage": "not.a.jwt",
    }
