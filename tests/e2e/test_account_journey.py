"""The account journey through the gateway, with every service, RabbitMQ, PostgreSQL and SMTP real.

request → approve → welcome e-mail → set password → login → refresh → logout → forgotten
password → reset e-mail → reset → login with the new password; the old link no longer works.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pyotp
import pytest
from tests.e2e.helpers import auth, link_token, text_of, to

pytestmark = pytest.mark.e2e

# Its own client address: the browser tests log in from 127.0.0.1 through the same
# gateway and identity, whose per-address limits would otherwise count both.
JOURNEY_ADDRESS = "127.0.0.21"


def an_organisation(c: httpx.Client) -> dict:
    resp = c.get("/api/identity/organisations", params={"province": "Utrecht"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    items = body["items"] if isinstance(body, dict) else body
    assert items, "demo organisations are loaded at first start"
    return items[0]


def request_account(c: httpx.Client, org_id: str, tag: str) -> tuple[str, str]:
    email = f"medewerker.{tag}@bibliotheek-utrecht.nl"
    resp = c.post(
        "/api/identity/account-requests",
        json={
            "name": f"Medewerker {tag}",
            "email": email,
            "organisation_id": org_id,
            "message": "Ik vul de jaarlijkse Wsob-uitvraag in.",
        },
    )
    assert resp.status_code == 202, resp.text
    return resp.json()["id"], email


def test_kb_admin_cannot_log_in_without_a_valid_totp_code(platform, admin):
    totp = pyotp.TOTP(admin["secret"])
    with platform.client(source=JOURNEY_ADDRESS) as c:
        resp = c.post(
            "/api/identity/auth/login",
            json={"username": "admin", "password": platform.admin_password},
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["mfa_required"] is True
        assert "access_token" not in resp.json()
        mfa_token = resp.json()["mfa_token"]
        wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
        resp = c.post("/api/identity/auth/login/mfa", json={"mfa_token": mfa_token, "code": wrong})
        assert resp.status_code == 401
        assert resp.headers["content-type"].startswith("application/problem+json")
        # The next time step is inside the ±1 window and was never used before.
        code = totp.at(time.time() + 30)
        resp = c.post("/api/identity/auth/login/mfa", json={"mfa_token": mfa_token, "code": code})
        assert resp.status_code == 200, resp.text
        assert resp.json()["access_token"]


def test_account_journey_from_request_to_password_reset(platform, admin):
    tag = uuid.uuid4().hex[:8]
    with platform.client(source=JOURNEY_ADDRESS) as c:
        org = an_organisation(c)
        request_id, email = request_account(c, org["id"], tag)

        pending = c.get(
            "/api/identity/account-requests",
            params={"status": "pending"},
            headers=auth(admin["access_token"]),
        )
        assert pending.status_code == 200, pending.text
        body = pending.json()
        items = body["items"] if isinstance(body, dict) else body
        assert request_id in {r["id"] for r in items}

        username = f"medewerker-{tag}"
        resp = c.post(
            f"/api/identity/account-requests/{request_id}/approve",
            json={"username": username},
            headers=auth(admin["access_token"]),
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["username"] == username
        again = c.post(
            f"/api/identity/account-requests/{request_id}/approve",
            json={"username": username},
            headers=auth(admin["access_token"]),
        )
        assert again.status_code == 409

        welcome = platform.wait_for_mail(lambda m: to(email)(m) and "#token=" in text_of(m))
        assert "Bibliotheekmonitor" in str(welcome["Subject"])
        activation = link_token(welcome)

        weak = c.post(
            "/api/identity/auth/password-reset",
            json={"token": activation, "new_password": "bibliotheek"},
        )
        assert weak.status_code == 422
        assert weak.headers["content-type"].startswith("application/problem+json")
        assert any(e["field"] == "new_password" for e in weak.json()["errors"])

        first_password = f"lange zin met {tag} boeken en kranten"
        resp = c.post(
            "/api/identity/auth/password-reset",
            json={"token": activation, "new_password": first_password},
        )
        assert resp.status_code == 204, resp.text

        resp = c.post(
            "/api/identity/auth/login", json={"username": username, "password": first_password}
        )
        assert resp.status_code == 200, resp.text
        tokens = resp.json()
        assert tokens["token_type"].lower() == "bearer"
        me = c.get("/api/identity/me", headers=auth(tokens["access_token"]))
        assert me.status_code == 200
        assert me.json()["organisation_id"] == org["id"]

        refreshed = c.post(
            "/api/identity/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200, refreshed.text
        new_tokens = refreshed.json()
        assert new_tokens["refresh_token"] != tokens["refresh_token"]

        resp = c.post(
            "/api/identity/auth/logout", json={"refresh_token": new_tokens["refresh_token"]}
        )
        assert resp.status_code == 204
        after_logout = c.post(
            "/api/identity/auth/refresh", json={"refresh_token": new_tokens["refresh_token"]}
        )
        assert after_logout.status_code == 401

        platform.smtp.clear()
        forgotten = c.post(
            "/api/identity/auth/password-forgotten", json={"username": username, "email": email}
        )
        assert forgotten.status_code == 202
        unknown = c.post(
            "/api/identity/auth/password-forgotten",
            json={"username": f"niemand-{tag}", "email": email},
        )
        assert unknown.status_code == 202
        assert unknown.json() == forgotten.json()

        reset_mail = platform.wait_for_mail(lambda m: to(email)(m) and "#token=" in text_of(m))
        reset_token = link_token(reset_mail)
        assert reset_token != activation

        second_password = f"een andere lange zin {tag} over leesclubs"
        resp = c.post(
            "/api/identity/auth/password-reset",
            json={"token": reset_token, "new_password": second_password},
        )
        assert resp.status_code == 204, resp.text
        reused = c.post(
            "/api/identity/auth/password-reset",
            json={"token": reset_token, "new_password": second_password + " nogmaals"},
        )
        assert reused.status_code == 422
        assert reused.headers["content-type"].startswith("application/problem+json")

        old = c.post(
            "/api/identity/auth/login", json={"username": username, "password": first_password}
        )
        assert old.status_code == 401
        new = c.post(
            "/api/identity/auth/login", json={"username": username, "password": second_password}
        )
        assert new.status_code == 200, new.text


def test_approval_while_the_broker_is_down_still_sends_the_email_later(platform, admin):
    tag = uuid.uuid4().hex[:8]
    with platform.client(source=JOURNEY_ADDRESS) as c:
        org = an_organisation(c)
        request_id, email = request_account(c, org["id"], tag)
        platform.broker.stop()
        try:
            resp = c.post(
                f"/api/identity/account-requests/{request_id}/approve",
                json={"username": f"storing-{tag}"},
                headers=auth(admin["access_token"]),
            )
            assert resp.status_code == 201, resp.text
            time.sleep(2)
            assert not [m for m in platform.mails_to(email) if "#token=" in text_of(m)]
        finally:
            platform.broker.start()
        welcome = platform.wait_for_mail(
            lambda m: to(email)(m) and "#token=" in text_of(m), timeout=90
        )
        assert link_token(welcome)
        time.sleep(2)
        welcomes = [m for m in platform.mails_to(email) if "#token=" in text_of(m)]
        assert len(welcomes) == 1


def test_unknown_username_and_wrong_password_get_the_same_answer(platform):
    with platform.client(source=JOURNEY_ADDRESS) as c:
        unknown = c.post(
            "/api/identity/auth/login",
            json={"username": f"niemand-{uuid.uuid4().hex[:6]}", "password": "x" * 20},
        )
        wrong = c.post("/api/identity/auth/login", json={"username": "admin", "password": "y" * 20})
        assert unknown.status_code == wrong.status_code == 401
        assert unknown.json() == wrong.json()


def test_bad_input_answers_problem_json_through_the_gateway(platform):
    with platform.client(source=JOURNEY_ADDRESS) as c:
        cases = [
            c.post(
                "/api/identity/account-requests",
                json={
                    "name": "A",
                    "email": "geen-adres",
                    "organisation_id": str(uuid.uuid4()),
                    "message": "",
                },
            ),
            c.post(
                "/api/identity/auth/password-reset",
                json={"token": "x" * 43, "new_password": "z" * 20},
            ),
            c.post(
                "/api/identity/auth/login",
                content=b"{not json",
                headers={"content-type": "application/json"},
            ),
            c.post(
                "/api/identity/account-requests",
                content=b"x" * (2 * 1024 * 1024),
                headers={"content-type": "application/json"},
            ),
        ]
        for resp in cases:
            assert 400 <= resp.status_code < 500, resp.text
            assert resp.headers["content-type"].startswith("application/problem+json")
        fields = {e["field"] for e in cases[0].json()["errors"]}
        assert "email" in fields
        assert cases[3].status_code == 413


def test_every_service_is_ready_and_serves_openapi_through_the_gateway(platform):
    with platform.client(source=JOURNEY_ADDRESS) as c:
        for service in ("identity", "surveys", "responses", "reporting", "notifier"):
            resp = c.get(f"/api/{service}/openapi.json")
            assert resp.status_code == 200, service
            assert resp.json()["info"]["title"]
        jwks = c.get("/api/identity/.well-known/jwks.json").json()
        assert jwks["keys"][0]["kty"] == "OKP"


def test_reporting_learns_the_organisations_from_identity_events(platform):
    with platform.client(source=JOURNEY_ADDRESS) as c:
        org = an_organisation(c)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            known = {o["id"] for o in c.get("/api/reporting/organisations").json()}
            if org["id"] in known:
                return
            time.sleep(0.5)
        raise AssertionError("reporting never received the organisation events")
