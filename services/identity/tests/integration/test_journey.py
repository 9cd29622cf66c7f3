"""The account journey inside identity, from request to reset."""

import pytest

from bibmon_identity.domain.tokens import looks_like_recovery_code

API = "/api/identity"
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_bootstrap_admin_must_enrol_totp_and_gets_recovery_codes(svc):
    assert svc.admin_token
    assert len(svc.admin_recovery_codes) == 10
    assert all(looks_like_recovery_code(c) for c in svc.admin_recovery_codes)
    me = await svc.client.get(f"{API}/me", headers=svc.auth())
    assert me.json()["username"] == "admin"
    assert me.json()["mfa_enabled"] is True


async def test_jwks_lists_the_signing_key(svc):
    jwks = (await svc.client.get(f"{API}/.well-known/jwks.json")).json()
    assert jwks["keys"][0]["kty"] == "OKP"
    assert jwks["keys"][0]["crv"] == "Ed25519"
    assert "d" not in jwks["keys"][0]


async def test_request_approve_set_password_login_refresh_logout_reset(svc):
    client = svc.client
    org_id = await svc.organisation_id(3)
    email = "j.de.vries@bieb-journey.example.nl"
    requested = await client.post(
        f"{API}/account-requests",
        json={
            "name": "Jan de Vries",
            "email": email,
            "organisation_id": org_id,
            "message": "Ik vul de monitor in.",
        },
    )
    assert requested.status_code == 202, requested.text
    request_id = requested.json()["id"]
    assert requested.json()["status"] == "pending"
    assert await svc.mails("account_request_received", email)
    assert await svc.outbox("identity.account.requested.v1", account_request_id=request_id)

    pending = await client.get(f"{API}/account-requests?status=pending", headers=svc.auth())
    assert request_id in [r["id"] for r in pending.json()["items"]]

    approved = await client.post(
        f"{API}/account-requests/{request_id}/approve", headers=svc.auth(), json={}
    )
    assert approved.status_code == 201, approved.text
    user_id = approved.json()["user_id"]
    username = approved.json()["username"]
    assert username == "j.de.vries"
    again = await client.post(
        f"{API}/account-requests/{request_id}/approve", headers=svc.auth(), json={}
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"

    (created,) = await svc.outbox("identity.account.created.v1", user_id=user_id)
    assert created["organisation_id"] == org_id
    assert "email" not in created
    assert "name" not in created
    (welcome,) = await svc.mails("account_welcome", email)
    url = welcome["context"]["set_password_url"]
    assert url.startswith("https://bibliotheekmonitor.test/wachtwoord-instellen#token=")
    assert welcome["context"]["expires_hours"] == 72
    token = url.split("#token=")[1]

    # no password yet: login fails like any wrong password
    assert (await svc.login(username, "een lang en eigen wachtwoord")).status_code == 401

    weak = await client.post(
        f"{API}/auth/password-reset", json={"token": token, "new_password": "wachtwoord123456"}
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "new_password"
    ok = await client.post(
        f"{API}/auth/password-reset",
        json={"token": token, "new_password": "zeven rode vissen zwemmen"},
    )
    assert ok.status_code == 204, ok.text
    used = await client.post(
        f"{API}/auth/password-reset",
        json={"token": token, "new_password": "nog een ander lang ding"},
    )
    assert used.status_code == 422
    assert used.json()["errors"][0]["field"] == "token"

    login = await svc.login(username, "zeven rode vissen zwemmen")
    assert login.status_code == 200, login.text
    body = login.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert login.headers["cache-control"] == "no-store"
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie.replace("Strict", "strict")
    me = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["organisation_id"] == org_id

    first_refresh = body["refresh_token"]
    rotated = await client.post(f"{API}/auth/refresh", json={"refresh_token": first_refresh})
    assert rotated.status_code == 200, rotated.text
    second_refresh = rotated.json()["refresh_token"]
    assert second_refresh != first_refresh

    # showing the spent token again ends the whole family, also the newest token
    reuse = await client.post(f"{API}/auth/refresh", json={"refresh_token": first_refresh})
    assert reuse.status_code == 401
    after_reuse = await client.post(f"{API}/auth/refresh", json={"refresh_token": second_refresh})
    assert after_reuse.status_code == 401

    again = (await svc.login(username, "zeven rode vissen zwemmen")).json()
    logout = await client.post(f"{API}/auth/logout", json={"refresh_token": again["refresh_token"]})
    assert logout.status_code == 204
    assert (
        await client.post(f"{API}/auth/refresh", json={"refresh_token": again["refresh_token"]})
    ).status_code == 401

    session = (await svc.login(username, "zeven rode vissen zwemmen")).json()
    forgotten = await client.post(
        f"{API}/auth/password-forgotten", json={"username": username, "email": email.upper()}
    )
    assert forgotten.status_code == 202
    (reset_mail,) = await svc.mails("password_reset", email)
    reset_url = reset_mail["context"]["reset_url"]
    assert reset_url.startswith("https://bibliotheekmonitor.test/wachtwoord-herstellen#token=")
    assert reset_mail["context"]["expires_minutes"] == 30
    assert reset_mail["expires_at"] is not None
    reset_token = reset_url.split("#token=")[1]
    reset = await client.post(
        f"{API}/auth/password-reset",
        json={"token": reset_token, "new_password": "acht blauwe ballonnen"},
    )
    assert reset.status_code == 204
    assert await svc.mails("password_changed", email)
    # the reset ended the sessions and the old password
    assert (
        await client.post(f"{API}/auth/refresh", json={"refresh_token": session["refresh_token"]})
    ).status_code == 401
    assert (await svc.login(username, "zeven rode vissen zwemmen")).status_code == 401
    assert (await svc.login(username, "acht blauwe ballonnen")).status_code == 200


async def test_refresh_and_logout_accept_the_cookie(svc):
    user = await svc.new_user()
    client = svc.client_from("127.0.0.5")
    login = await client.post(
        f"{API}/auth/login", json={"username": user["username"], "password": user["password"]}
    )
    assert login.status_code == 200
    refreshed = await client.post(f"{API}/auth/refresh")  # cookie jar carries the token
    assert refreshed.status_code == 200, refreshed.text
    assert (await client.post(f"{API}/auth/logout")).status_code == 204
    assert (await client.post(f"{API}/auth/refresh")).status_code == 401


async def test_rejected_request_gets_polite_mail_and_cannot_be_approved(svc):
    email = "afgewezen@example.nl"
    org_id = await svc.organisation_id(5)
    request_id = (
        await svc.client.post(
            f"{API}/account-requests",
            json={"name": "Piet", "email": email, "organisation_id": org_id},
        )
    ).json()["id"]
    rejected = await svc.client.post(
        f"{API}/account-requests/{request_id}/reject",
        headers=svc.auth(),
        json={"reason": "Geen medewerker."},
    )
    assert rejected.json()["status"] == "rejected"
    (mail,) = await svc.mails("account_rejected", email)
    assert mail["context"]["reason"] == "Geen medewerker."
    approve = await svc.client.post(
        f"{API}/account-requests/{request_id}/approve", headers=svc.auth(), json={}
    )
    assert approve.status_code == 409


async def test_forgotten_password_answers_the_same_for_unknown_and_wrong_email(svc):
    user = await svc.new_user()
    answers = []
    for body in [
        {"username": user["username"], "email": "wrong@example.nl"},
        {"username": "nobody-like-this", "email": "x@example.nl"},
        {"username": user["username"], "email": user["email"]},
    ]:
        response = await svc.client.post(f"{API}/auth/password-forgotten", json=body)
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 202
    assert len(await svc.mails("password_reset", user["email"])) == 1


async def test_forgotten_password_is_limited_per_account_with_the_same_answer(svc):
    user = await svc.new_user()
    body = {"username": user["username"], "email": user["email"]}
    answers = {
        (r.status_code, r.text)
        for r in [
            await svc.client.post(f"{API}/auth/password-forgotten", json=body) for _ in range(5)
        ]
    }
    assert len(answers) == 1
    assert len(await svc.mails("password_reset", user["email"])) == 3
