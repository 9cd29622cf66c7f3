"""The security suite's checks that need the real platform behind the gateway.

Token attacks on every service (signed with identity's real key where the attack needs a
valid signature), security headers, refresh-token reuse, login throttling, and no user
enumeration on login and password-forgotten (same answer; same time within 5 ms).
It lives here to share the one platform the journey tests start (docs/security-suite.md).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from tests.e2e.helpers import auth, items_of
from tests.security.jwt_attacks import attacks, claims, sign

from bibmon_demo.data import DEMO_CLOSED_SURVEY_ID
from bibmon_identity.domain.crypto import DataCipher

ISSUER = "bibmon-identity"
PROBES = {
    "identity": "/api/identity/me",
    "surveys": "/api/surveys/surveys",
    "responses": f"/api/responses/surveys/{DEMO_CLOSED_SURVEY_ID}/response",
    "notifier": "/api/notifier/emails",
}


def _signing_key(platform: Any) -> tuple[str, Ed25519PrivateKey]:
    """Identity's current signing key, read as identity reads it (an attacker with it wins)."""
    cipher = DataCipher.from_base64(platform.stack.secrets["BIBMON_IDENTITY_DATA_KEY"])

    async def newest() -> asyncpg.Record:
        conn = await asyncpg.connect(platform.stack.config.dsn("identity"))
        try:
            return await conn.fetchrow(
                "SELECT kid, private_key FROM signing_keys ORDER BY created_at DESC LIMIT 1"
            )
        finally:
            await conn.close()

    row = asyncio.run(newest())
    pem = cipher.decrypt(row["private_key"], f"signing-key:{row['kid']}".encode())
    key = load_pem_private_key(pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return row["kid"], key


def _protected_probes(c: httpx.Client) -> dict[str, str]:
    """A GET per service that needs a token; reporting's found in its OpenAPI document."""
    probes = dict(PROBES)
    spec = c.get("/api/reporting/openapi.json").json()
    for path, ops in spec.get("paths", {}).items():
        if "{" not in path and "get" in ops and ops["get"].get("security"):
            probes["reporting"] = path
            break
    return probes


def test_forged_and_misused_tokens_are_refused_by_every_service(platform):
    kid, key = _signing_key(platform)
    with platform.client(source="127.0.0.51") as c:
        probes = _protected_probes(c)
        for service, path in probes.items():
            audience = f"bibmon-{service}"
            # Signed with the real key and well-formed: accepted (whatever the answer).
            genuine = sign(key, kid, claims(ISSUER, [audience]))
            resp = c.get(path, headers=auth(genuine))
            assert resp.status_code != 401, (service, resp.text)
            for name, token in attacks(key, kid, ISSUER, audience).items():
                resp = c.get(path, headers=auth(token))
                assert resp.status_code == 401, (service, name, resp.status_code, resp.text)
                assert resp.headers["content-type"].startswith("application/problem+json")
            # A token for another service is no token here.
            other = "bibmon-surveys" if service != "surveys" else "bibmon-identity"
            resp = c.get(path, headers=auth(sign(key, kid, claims(ISSUER, [other]))))
            assert resp.status_code == 401, (service, "audience of another service")


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/", "text/html"),
        ("/api/identity/organisations", "application/json"),
        ("/api/surveys/surveys", "application/problem+json"),  # 401
        ("/api/identity/no-such-thing", "application/problem+json"),  # 404
        ("/api/identity/openapi.json", "application/json"),
    ],
)
def test_the_gateway_sends_security_headers_on_html_and_api_answers(platform, path, kind):
    with platform.client(source="127.0.0.52") as c:
        # "/" sends an anonymous visitor on to the login page: check the page itself.
        resp = c.get(path, follow_redirects=True)
    assert resp.headers["content-type"].startswith(kind), resp.headers["content-type"]
    for name, value in SECURITY_HEADERS.items():
        assert resp.headers.get(name) == value, (path, name)
    csp = {
        d.strip().split(" ", 1)[0]: d.strip()
        for d in resp.headers["content-security-policy"].split(";")
    }
    assert csp["default-src"] == "default-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"
    assert csp["base-uri"] == "base-uri 'self'"
    assert "unsafe-inline" not in resp.headers["content-security-policy"]
    assert "camera=()" in resp.headers["permissions-policy"]
    assert resp.headers.get("x-request-id")


def _login(c: httpx.Client, username: str, password: str) -> httpx.Response:
    return c.post("/api/identity/auth/login", json={"username": username, "password": password})


def _staff_usernames(c: httpx.Client, admin_token: str) -> list[str]:
    users = items_of(
        c.get(
            "/api/identity/users",
            params={"role": "library_staff", "limit": 200},
            headers=auth(admin_token),
        ).json()
    )
    return [u["username"] for u in users if u["username"].startswith("staff-")]


def test_refresh_token_reuse_ends_the_whole_session(platform, admin):
    with platform.client(source="127.0.0.53") as c:
        username = _staff_usernames(c, admin["access_token"])[70]
        first = _login(c, username, platform.demo_password).json()
        resp = c.post("/api/identity/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert resp.status_code == 200, resp.text
        second = resp.json()
        # The rotated token shown again: reuse. The whole family ends, the new one too.
        reuse = c.post("/api/identity/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert reuse.status_code == 401
        resp = c.post("/api/identity/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert resp.status_code == 401
        assert c.get("/api/identity/me", headers=auth(second["access_token"])).status_code == 401


def test_repeated_wrong_passwords_are_throttled(platform):
    username = f"nobody-{uuid.uuid4().hex[:8]}"
    statuses = []
    for i in range(12):
        # Each attempt from another address: the per-account limit is what is tested.
        with platform.client(source=f"127.0.54.{i + 1}") as c:
            resp = _login(c, username, "wrong password, really")
            statuses.append(resp.status_code)
            if resp.status_code == 429:
                assert int(resp.headers["retry-after"]) > 0
                break
    assert statuses[0] == 401
    assert statuses[-1] == 429, statuses


def _sources() -> Any:
    """Fresh loopback addresses, so neither the gateway's nor identity's per-address
    limits answer instead of the login check."""
    for b in range(10, 250):
        for d in range(1, 250):
            yield f"127.{b}.7.{d}"


def test_login_and_password_forgotten_do_not_reveal_whether_a_user_exists(platform, admin):
    with platform.client(source="127.0.0.55") as c:
        known = _staff_usernames(c, admin["access_token"])[80:84]
    sources = _sources()
    answers: dict[str, set[tuple[int, str]]] = {"known": set(), "unknown": set()}
    for kind, names in (
        ("known", known),
        ("unknown", [f"x-{uuid.uuid4().hex[:8]}" for _ in known]),
    ):
        for name in names:
            with platform.client(source=next(sources)) as c:
                resp = _login(c, name, "Wrong-password-123!")
                body = resp.json()
                body.pop("instance", None)
                answers[kind].add((resp.status_code, str(sorted(body.items()))))
    assert answers["known"] == answers["unknown"]
    assert len(answers["known"]) == 1

    forgotten: dict[str, set[tuple[int, str]]] = {"known": set(), "unknown": set()}
    for kind, name in (("known", known[0]), ("unknown", f"x-{uuid.uuid4().hex[:8]}")):
        with platform.client(source=next(sources)) as c:
            resp = c.post(
                "/api/identity/auth/password-forgotten",
                json={"username": name, "email": f"{name}@example.org"},
            )
            forgotten[kind].add((resp.status_code, resp.text))
    assert forgotten["known"] == forgotten["unknown"]


def test_login_takes_as_long_for_an_unknown_username_as_for_a_known_one(platform, admin):
    """Medians of 200 attempts each, interleaved so machine load hits both alike."""
    with platform.client(source="127.0.0.56") as c:
        # Not the first libraries' staff: the journeys log them in, unslowed.
        known = _staff_usernames(c, admin["access_token"])[10:]
    assert len(known) >= 50
    sources = _sources()
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    rng = random.Random(20261129)
    for i in range(200):
        pair = [("known", known[i % len(known)]), ("unknown", f"u-{uuid.uuid4().hex[:10]}")]
        rng.shuffle(pair)
        with platform.client(source=next(sources)) as c:
            _login(c, f"w-{uuid.uuid4().hex[:10]}", "x")  # a warm connection and worker
            for kind, name in pair:
                started = time.perf_counter()
                resp = _login(c, name, f"Wrong-{uuid.uuid4().hex}")
                timings[kind].append(time.perf_counter() - started)
                assert resp.status_code == 401, resp.text
    known_ms = statistics.median(timings["known"]) * 1000
    unknown_ms = statistics.median(timings["unknown"]) * 1000
    print(f"login medians: known {known_ms:.2f} ms, unknown {unknown_ms:.2f} ms")
    assert abs(known_ms - unknown_ms) < 5.0, (known_ms, unknown_ms)
