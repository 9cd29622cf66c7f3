import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bibmon_common.auth import (
    AUDIENCES,
    JWTVerifier,
    service_token,
    verify_service_token,
)
from bibmon_common.errors import Unauthorized

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()


def jwks_of(key, kid="k1"):
    jwk = jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {"keys": [{**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"}]}


async def provider(force: bool = False):
    return jwks_of(KEY)


def token(key=KEY, *, typ="at+jwt", kid="k1", **overrides):
    now = int(time.time())
    claims = {
        "iss": "bibmon-identity",
        "aud": list(AUDIENCES),
        "sub": str(uuid.uuid4()),
        "org": str(uuid.uuid4()),
        "roles": ["library_staff"],
        "scope": "full",
        "amr": ["pwd"],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "j1",
        "sid": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"typ": typ, "kid": kid})


verifier = JWTVerifier(provider, issuer="bibmon-identity", audience="bibmon-surveys")


@pytest.mark.asyncio
async def test_valid_token_gives_principal():
    principal = await verifier.verify(token())
    assert principal.roles == {"library_staff"}
    assert principal.organisation_id is not None
    assert not principal.mfa


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "bad",
    [
        token(OTHER_KEY),
        token(typ="JWT"),
        token(kid="unknown"),
        token(aud=["bibmon-identity"]),
        token(iss="someone-else"),
        token(exp=int(time.time()) - 60),
        "not-a-jwt",
    ],
    ids=["wrong-key", "wrong-typ", "unknown-kid", "wrong-aud", "wrong-iss", "expired", "garbage"],
)
async def test_bad_tokens_are_refused(bad):
    with pytest.raises(Unauthorized):
        await verifier.verify(bad)


@pytest.mark.asyncio
async def test_alg_none_is_refused():
    unsigned = jwt.encode(
        {"sub": str(uuid.uuid4())}, None, algorithm="none", headers={"typ": "at+jwt", "kid": "k1"}
    )
    with pytest.raises(Unauthorized):
        await verifier.verify(unsigned)


def test_service_token_round_trip_and_tamper():
    tok = service_token("s3cret", "surveys")
    assert verify_service_token("s3cret", tok) == "surveys"
    with pytest.raises(Unauthorized):
        verify_service_token("other", tok)
    with pytest.raises(Unauthorized):
        verify_service_token("s3cret", service_token("s3cret", "surveys", now=time.time() - 3600))
