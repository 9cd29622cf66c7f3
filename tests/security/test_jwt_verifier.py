"""The kernel's token check against the classic JWT attacks, and a JWKS client that a
flood of made-up key ids cannot turn against identity."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.security.jwt_attacks import attacks, claims, sign

from bibmon_common.auth import JWTVerifier, http_jwks_provider
from bibmon_common.errors import Unauthorized
from bibmon_common.testing.tokens import TEST_ISSUER, TestKeys

AUDIENCE = "bibmon-surveys"


class JwksServer:
    """A real HTTP server serving a JWKS and counting the requests."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = json.dumps(jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def keys() -> TestKeys:
    return TestKeys("surveys")


@pytest.fixture
def jwks_server(keys: TestKeys) -> Iterator[JwksServer]:
    with JwksServer(keys.jwks) as server:
        yield server


def _attack_names() -> list[str]:
    k = TestKeys("surveys")
    return sorted(attacks(k.private, k.kid, TEST_ISSUER, AUDIENCE))


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("attack", _attack_names())
async def test_forged_or_misused_token_is_refused(
    keys: TestKeys, jwks_server: JwksServer, attack: str
) -> None:
    verifier = JWTVerifier(
        http_jwks_provider(jwks_server.url), issuer=TEST_ISSUER, audience=AUDIENCE
    )
    # The same key signs a valid token that passes: the refusals are about the attack.
    valid = sign(keys.private, keys.kid, claims(TEST_ISSUER, [AUDIENCE]))
    assert (await verifier.verify(valid)).roles == {"kb_admin"}
    token = attacks(keys.private, keys.kid, TEST_ISSUER, AUDIENCE)[attack]
    with pytest.raises(Unauthorized):
        await verifier.verify(token)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_token_of_a_revoked_session_is_refused(keys: TestKeys) -> None:
    ended = uuid.uuid4()

    async def revoked(session_id: uuid.UUID) -> bool:
        return session_id == ended

    verifier = JWTVerifier(keys.provider, issuer=TEST_ISSUER, audience=AUDIENCE, revoked=revoked)
    live = sign(keys.private, keys.kid, claims(TEST_ISSUER, [AUDIENCE]))
    assert (await verifier.verify(live)).session_id is not None
    dead = sign(keys.private, keys.kid, claims(TEST_ISSUER, [AUDIENCE], sid=str(ended)))
    with pytest.raises(Unauthorized) as refused:
        await verifier.verify(dead)
    assert refused.value.type_ == "session-ended"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_flood_of_unknown_key_ids_does_not_refetch_the_jwks_each_time(
    keys: TestKeys, jwks_server: JwksServer
) -> None:
    verifier = JWTVerifier(
        http_jwks_provider(jwks_server.url), issuer=TEST_ISSUER, audience=AUDIENCE
    )
    valid = sign(keys.private, keys.kid, claims(TEST_ISSUER, [AUDIENCE]))
    await verifier.verify(valid)
    assert jwks_server.requests == 1
    for _ in range(200):
        token = sign(keys.private, f"kid-{uuid.uuid4().hex}", claims(TEST_ISSUER, [AUDIENCE]))
        with pytest.raises(Unauthorized):
            await verifier.verify(token)
    # The first fetch was just now: no forced refetch within the minimum interval.
    assert jwks_server.requests == 1
    await verifier.verify(valid)
    assert jwks_server.requests == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_an_unknown_key_id_refetches_once_the_interval_has_passed(
    keys: TestKeys, jwks_server: JwksServer
) -> None:
    """A rotated key is still picked up: a forced refetch after the minimum interval."""
    provider = http_jwks_provider(jwks_server.url, min_refresh_interval=0.0)
    verifier = JWTVerifier(provider, issuer=TEST_ISSUER, audience=AUDIENCE)
    token = sign(keys.private, "rotated", claims(TEST_ISSUER, [AUDIENCE]))
    with pytest.raises(Unauthorized):
        await verifier.verify(token)
    assert jwks_server.requests == 2  # the cached fetch, then one forced refetch


class CountingJwks:
    """A JWKS provider that counts how often a signature check needed the keys."""

    def __init__(self, keys: TestKeys) -> None:
        self.jwks: dict[str, Any] = keys.jwks
        self.calls = 0

    async def __call__(self, force: bool = False) -> dict[str, Any]:
        self.calls += 1
        return self.jwks


@pytest.mark.asyncio(loop_scope="session")
async def test_a_verified_token_is_not_verified_again_but_its_session_is_checked_each_time(
    keys: TestKeys,
) -> None:
    ended: set[uuid.UUID] = set()

    async def revoked(session_id: uuid.UUID) -> bool:
        return session_id in ended

    jwks = CountingJwks(keys)
    verifier = JWTVerifier(jwks, issuer=TEST_ISSUER, audience=AUDIENCE, revoked=revoked)
    session = uuid.uuid4()
    token = sign(keys.private, keys.kid, claims(TEST_ISSUER, [AUDIENCE], sid=str(session)))
    first = await verifier.verify(token)
    assert await verifier.verify(token) == first
    assert jwks.calls == 1
    # Ended after it was cached: refused at once.
    ended.add(session)
    with pytest.raises(Unauthorized) as refused:
        await verifier.verify(token)
    assert refused.value.type_ == "session-ended"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_cached_token_of_a_withdrawn_key_is_refused_once_the_cache_time_passed(
    keys: TestKeys,
) -> None:
    jwks = CountingJwks(keys)
    verifier = JWTVerifier(jwks, issuer=TEST_ISSUER, audience=AUDIENCE, cache_seconds=0.2)
    token = sign(keys.private, keys.kid, claims(TEST_ISSUER, [AUDIENCE]))
    await verifier.verify(token)
    jwks.jwks = {"keys": []}  # identity withdrew the key
    await asyncio.sleep(0.3)
    with pytest.raises(Unauthorized):
        await verifier.verify(token)


@pytest.mark.asyncio(loop_scope="session")
async def test_the_cache_of_verified_tokens_is_bounded(keys: TestKeys) -> None:
    jwks = CountingJwks(keys)
    verifier = JWTVerifier(jwks, issuer=TEST_ISSUER, audience=AUDIENCE, cache_size=2)
    tokens = [sign(keys.private, keys.kid, claims(TEST_ISSUER, [AUDIENCE])) for _ in range(3)]
    for token in tokens:
        await verifier.verify(token)
    assert jwks.calls == 3
    await verifier.verify(tokens[2])  # among the two kept
    assert jwks.calls == 3
    await verifier.verify(tokens[0])  # the oldest made room
    assert jwks.calls == 4
