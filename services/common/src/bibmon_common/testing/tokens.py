"""Access tokens for service tests, signed the way identity signs them (EdDSA, `at+jwt`).

A service under test gets `keys.provider` as its JWKS provider (see each service's
conftest) and the tests call it with `keys.auth("library_staff", organisation_id=…)`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

TEST_ISSUER = "bibmon-identity-test"
TEST_KID = "test-key"


class TestKeys:
    """Signs access tokens for one service's audience; serves the matching JWKS."""

    __test__ = False  # not a pytest test class

    def __init__(self, service: str, *, issuer: str = TEST_ISSUER, kid: str = TEST_KID) -> None:
        self.audience = f"bibmon-{service}"
        self.issuer = issuer
        self.kid = kid
        self.private = Ed25519PrivateKey.generate()
        jwk = OKPAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwks = {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "EdDSA"}]}

    async def provider(self, force: bool = False) -> dict[str, Any]:
        return self.jwks

    def token(
        self,
        *roles: str,
        organisation_id: uuid.UUID | None = None,
        user_id: uuid.UUID | None = None,
        scope: str = "full",
        amr: tuple[str, ...] = ("pwd", "otp"),
        lifetime: int = 600,
        session_id: uuid.UUID | None = None,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": [self.audience],
            "sub": str(user_id or uuid.uuid4()),
            "org": str(organisation_id) if organisation_id else None,
            "roles": list(roles),
            "scope": scope,
            "amr": list(amr),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            "sid": str(session_id or uuid.uuid4()),
        }
        return jwt.encode(
            claims, self.private, algorithm="EdDSA", headers={"kid": self.kid, "typ": "at+jwt"}
        )

    def auth(self, *roles: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*roles, **claims)}"}
