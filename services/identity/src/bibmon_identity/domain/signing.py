"""Ed25519 signing keys, the JWKS, access tokens and the short-lived MFA step token.

Access tokens follow RFC 9068 (JWT profile for OAuth 2.0 access tokens): header `typ:
at+jwt` and `kid`; claims iss, aud (one audience per service, ASVS 9.2.3), sub, org, roles,
scope, amr, iat, nbf, exp, jti. EdDSA only (ASVS 9.1.2 algorithm allow-list).
The MFA step token has its own `typ` and audience, so no service accepts it as an access
token and the login endpoint accepts nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# The access-token contract every service verifies against.
from bibmon_common.auth import ACCESS_TOKEN_TYPE, AUDIENCES

ALGORITHM = "EdDSA"
MFA_TOKEN_TYPE = "mfa+jwt"
MFA_AUDIENCE = "bibmon-identity-mfa"


@dataclass(frozen=True)
class SigningKey:
    """One Ed25519 key pair with its key id."""

    kid: str
    private_key: Ed25519PrivateKey
    created_at: datetime

    def private_pem(self) -> bytes:
        """PKCS#8 PEM of the private key (encrypt before storing)."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 8037 OKP)."""
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": x,
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }


def kid_for(private_key: Ed25519PrivateKey) -> str:
    """A stable key id: the RFC 7638-style thumbprint of the public key, shortened."""
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    digest = hashlib.sha256(raw).digest()
    return base64.urlsafe_b64encode(digest[:12]).rstrip(b"=").decode("ascii")


def generate_key(now: datetime) -> SigningKey:
    """A fresh Ed25519 key."""
    private_key = Ed25519PrivateKey.generate()
    return SigningKey(kid_for(private_key), private_key, now)


def load_key(pem: bytes, created_at: datetime, kid: str | None = None) -> SigningKey:
    """Load a PKCS#8 PEM Ed25519 private key."""
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError("the signing key must be an Ed25519 private key")
    return SigningKey(kid or kid_for(private_key), private_key, created_at)


def jwks(keys: Iterable[SigningKey]) -> dict[str, Any]:
    """A JWK Set (RFC 7517) of the given keys' public halves."""
    return {"keys": [key.public_jwk() for key in keys]}


def issue_access_token(
    key: SigningKey,
    *,
    issuer: str,
    user_id: uuid.UUID,
    organisation_id: uuid.UUID | None,
    roles: Sequence[str],
    scope: str,
    amr: Sequence[str],
    now: datetime,
    lifetime: timedelta,
    session_id: uuid.UUID,
    audiences: Sequence[str] = AUDIENCES,
) -> str:
    """Sign an access token for a user's session (`sid`: the refresh-token family)."""
    issued = int(now.timestamp())
    claims = {
        "iss": issuer,
        "aud": list(audiences),
        "sub": str(user_id),
        "org": str(organisation_id) if organisation_id else None,
        "roles": sorted(roles),
        "scope": scope,
        "amr": list(amr),
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(lifetime.total_seconds()),
        "jti": str(uuid.uuid4()),
        "sid": str(session_id),
    }
    return jwt.encode(
        claims,
        key.private_key,
        algorithm=ALGORITHM,
        headers={"kid": key.kid, "typ": ACCESS_TOKEN_TYPE},
    )


def issue_mfa_token(
    key: SigningKey,
    *,
    issuer: str,
    challenge_id: uuid.UUID,
    user_id: uuid.UUID,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """Sign the token that only allows the second login step."""
    issued = int(now.timestamp())
    claims = {
        "iss": issuer,
        "aud": MFA_AUDIENCE,
        "sub": str(user_id),
        "jti": str(challenge_id),
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(lifetime.total_seconds()),
    }
    return jwt.encode(
        claims,
        key.private_key,
        algorithm=ALGORITHM,
        headers={"kid": key.kid, "typ": MFA_TOKEN_TYPE},
    )


def verify_mfa_token(
    token: str, keys: Sequence[SigningKey], *, issuer: str, now: datetime
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """Return (challenge id, user id) of a valid MFA step token, or None."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    if header.get("typ") != MFA_TOKEN_TYPE or header.get("alg") != ALGORITHM:
        return None
    key = next((k for k in keys if k.kid == header.get("kid")), None)
    if key is None:
        return None
    try:
        claims = jwt.decode(
            token,
            key.private_key.public_key(),
            algorithms=[ALGORITHM],
            audience=MFA_AUDIENCE,
            issuer=issuer,
            options={"require": ["exp", "nbf", "iat", "jti", "sub"]},
            leeway=0,
        )
        return uuid.UUID(claims["jti"]), uuid.UUID(claims["sub"])
    except (jwt.PyJWTError, ValueError, KeyError):
        return None
