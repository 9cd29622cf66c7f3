"""identity's JWKS from a mounted file (jwks_url=file:///…), as Kubernetes mounts a Secret."""

from __future__ import annotations

import json

import pytest

from bibmon_common.auth import JWTVerifier, file_jwks_provider, jwks_provider_for
from bibmon_common.errors import Unauthorized
from bibmon_common.testing.tokens import TestKeys

pytestmark = pytest.mark.asyncio


def verifier_for(url: str, keys: TestKeys) -> JWTVerifier:
    return JWTVerifier(jwks_provider_for(url), issuer=keys.issuer, audience=keys.audience)


async def test_token_verifies_against_a_jwks_file(tmp_path):
    keys = TestKeys("surveys")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.jwks))

    principal = await verifier_for(path.as_uri(), keys).verify(keys.token("kb_admin"))

    assert principal.roles == {"kb_admin"}


async def test_a_rotated_key_is_read_from_the_updated_file_at_once(tmp_path):
    old, new = TestKeys("surveys", kid="old"), TestKeys("surveys", kid="new")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(old.jwks))
    provider = file_jwks_provider(str(path), min_refresh_interval=0)
    verifier = JWTVerifier(provider, issuer=old.issuer, audience=old.audience)
    await verifier.verify(old.token("library_staff"))  # file read and cached

    # Kubernetes swaps the mounted file when identity's new key is published.
    path.write_text(json.dumps({"keys": old.jwks["keys"] + new.jwks["keys"]}))

    assert (await verifier.verify(new.token("researcher"))).roles == {"researcher"}


async def test_unknown_kids_within_the_refresh_interval_do_not_reread_the_file(tmp_path):
    keys, stranger = TestKeys("surveys", kid="k1"), TestKeys("surveys", kid="made-up")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.jwks))
    provider = file_jwks_provider(str(path), min_refresh_interval=3600)
    verifier = JWTVerifier(provider, issuer=keys.issuer, audience=keys.audience)
    await verifier.verify(keys.token("library_staff"))

    path.write_text("not json at all")  # a reread would now fail with "unavailable"
    for _ in range(20):
        with pytest.raises(Unauthorized, match="Unknown signing key"):
            await verifier.verify(stranger.token("library_staff"))
    assert (await verifier.verify(keys.token("kb_admin"))).roles == {"kb_admin"}


async def test_a_missing_or_broken_jwks_file_fails_closed(tmp_path):
    keys = TestKeys("surveys")
    with pytest.raises(Unauthorized, match="unavailable"):
        await verifier_for((tmp_path / "absent.json").as_uri(), keys).verify(keys.token())
    broken = tmp_path / "broken.json"
    broken.write_text('{"not": "a jwks"}')
    with pytest.raises(Unauthorized, match="unavailable"):
        await verifier_for(broken.as_uri(), keys).verify(keys.token())


@pytest.mark.parametrize(
    "url", ["ftp://identity/jwks.json", "file://identity/etc/jwks.json", "jwks.json"]
)
async def test_jwks_url_of_another_kind_is_refused_at_start(url):
    with pytest.raises(ValueError, match="jwks_url"):
        jwks_provider_for(url)
