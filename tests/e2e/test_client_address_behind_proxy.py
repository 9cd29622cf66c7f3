"""Behind the gateway, identity counts each client address apart (issue 10, item 1).

The services see the gateway's connection; only its X-Forwarded-For (trusted through
FORWARDED_ALLOW_IPS) tells them who the client is. Were it ignored, one address guessing
passwords would throttle everyone.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

pytestmark = pytest.mark.e2e

# Addresses no other journey uses, so this test's counters start at zero.
GUESSER = "127.0.0.61"
BYSTANDER = "127.0.0.62"
IDENTITY_TOO_MANY = "Too many attempts; wait before trying again."


def wrong_login(c: httpx.Client, headers: dict[str, str] | None = None) -> httpx.Response:
    return c.post(
        "/api/identity/auth/login",
        json={"username": f"gokker-{uuid.uuid4().hex[:8]}", "password": "fout" * 5},
        headers=headers,
    )


def guess_until_identity_throttles(c: httpx.Client, budget_s: float = 120) -> httpx.Response:
    """Wrong logins (each for another username) until identity's per-address limit answers."""
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline:
        resp = wrong_login(c)
        if resp.status_code == 429 and resp.json().get("detail") == IDENTITY_TOO_MANY:
            return resp
        if resp.status_code == 429:
            # The gateway's own, coarser limit for this address (AUTH_RATE_LIMIT): pace down.
            time.sleep(2.1)
            continue
        assert resp.status_code == 401, resp.text
    raise AssertionError("identity never throttled the guessing address")


@pytest.mark.timeout(240)
def test_one_address_exhausting_the_login_limit_does_not_throttle_another(platform):
    with platform.client(source=GUESSER) as guesser, platform.client(source=BYSTANDER) as other:
        throttled = guess_until_identity_throttles(guesser)
        assert throttled.headers["content-type"].startswith("application/problem+json")
        assert int(throttled.headers["retry-after"]) > 0

        # Another address is heard: identity counts it apart from the guesser.
        assert wrong_login(other).status_code == 401
        # ... also when it claims to be the guesser: a client's own X-Forwarded-For is
        # not believed, the gateway passes the address it sees.
        assert wrong_login(other, {"X-Forwarded-For": GUESSER}).status_code == 401
        # And the guesser stays throttled, whatever address it claims.
        time.sleep(2.1)  # past the gateway's own limit, so the answer is identity's
        again = wrong_login(guesser, {"X-Forwarded-For": BYSTANDER})
        assert again.status_code == 429
        assert again.json()["detail"] == IDENTITY_TOO_MANY


def test_metrics_are_served_on_the_internal_port_but_not_through_the_gateway(platform):
    ports = platform.stack.config.ports
    with platform.client() as c:
        public = c.get("/metrics")
        assert public.status_code == 404
        assert public.headers["content-type"].startswith("application/problem+json")
        assert "bibmon_" not in public.text
        for service in ("identity", "surveys", "responses", "reporting", "notifier"):
            internal = httpx.get(f"http://127.0.0.1:{ports[service]}/metrics", timeout=10)
            assert internal.status_code == 200, service
            assert "bibmon_outbox_lag_seconds" in internal.text
            assert "bibmon_http_requests_total" in internal.text
            assert c.get(f"/api/{service}/metrics").status_code == 404
