"""TOTP login, throttling, indistinguishable failures, problem+json on bad input."""

import pytest

from bibmon_identity.domain import totp
from bibmon_identity.domain.throttling import throttle_key

API = "/api/identity"
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def _pass_time(svc, username):
    """Move the last failures two minutes back, as if the callers had waited out the delay."""
    async with svc.pool.acquire() as conn:
        await conn.execute(
            "UPDATE login_throttle SET last_failure_at = last_failure_at - interval '2 minutes'"
        )


async def test_kb_admin_with_totp_cannot_log_in_without_a_valid_code(svc):
    first = await svc.login("admin", svc.admin_password)
    assert first.status_code == 200
    assert first.json()["mfa_required"] is True
    assert "access_token" not in first.json()
    mfa_token = first.json()["mfa_token"]

    # the mfa_token is no access token
    me = await svc.client.get(f"{API}/me", headers={"Authorization": f"Bearer {mfa_token}"})
    assert me.status_code == 401

    wrong = await svc.client.post(
        f"{API}/auth/login/mfa", json={"mfa_token": mfa_token, "code": "000000"}
    )
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"

    code = svc.next_code(svc.admin_secret)
    ok = await svc.client.post(f"{API}/auth/login/mfa", json={"mfa_token": mfa_token, "code": code})
    assert ok.status_code == 200, ok.text
    assert ok.json()["scope"] == "full"

    # the same code (same step) is refused at the next login, and the used token is dead
    again = (await svc.login("admin", svc.admin_password)).json()["mfa_token"]
    reused = await svc.client.post(f"{API}/auth/login/mfa", json={"mfa_token": again, "code": code})
    assert reused.status_code == 401
    # a recovery code is not spent on a dead token: the token is checked first
    dead = await svc.client.post(
        f"{API}/auth/login/mfa", json={"mfa_token": mfa_token, "code": svc.admin_recovery_codes[-1]}
    )
    assert dead.status_code == 401


async def test_recovery_code_works_once(svc):
    code = svc.admin_recovery_codes[0]
    for expected in (200, 401):
        mfa_token = (await svc.login("admin", svc.admin_password)).json()["mfa_token"]
        answer = await svc.client.post(
            f"{API}/auth/login/mfa", json={"mfa_token": mfa_token, "code": code}
        )
        assert answer.status_code == expected


async def test_five_wrong_codes_end_the_mfa_token(svc):
    user = await svc.new_user(roles=["researcher"])
    login = (await svc.login(user["username"], user["password"])).json()
    assert login["scope"] == "mfa_enrolment"
    # an enrolment-only token is refused elsewhere
    denied = await svc.client.get(f"{API}/me/export", headers=svc.auth(login["access_token"]))
    assert denied.status_code == 403
    secret, _ = await svc.enrol(login["access_token"])
    mfa_token = (await svc.login(user["username"], user["password"])).json()["mfa_token"]
    for _ in range(5):
        wrong = await svc.client.post(
            f"{API}/auth/login/mfa", json={"mfa_token": mfa_token, "code": "123456"}
        )
        assert wrong.status_code == 401
    right = await svc.client.post(
        f"{API}/auth/login/mfa", json={"mfa_token": mfa_token, "code": svc.next_code(secret)}
    )
    assert right.status_code == 401


async def test_wrong_enrolment_code_is_a_field_error(svc):
    user = await svc.new_user(roles=["researcher"])
    token = (await svc.login(user["username"], user["password"])).json()["access_token"]
    enrol = await svc.client.post(f"{API}/me/mfa/totp", headers=svc.auth(token))
    assert enrol.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert "<svg" in enrol.json()["qr_svg"]
    secret = enrol.json()["secret"]
    stale = totp.code_at(secret, 0)
    wrong = await svc.client.post(
        f"{API}/me/mfa/totp/confirm", headers=svc.auth(token), json={"code": stale}
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "code"


async def test_unknown_username_and_wrong_password_answer_alike_and_both_get_throttled(svc):
    user = await svc.new_user()
    real, ghost = [], []
    for _ in range(6):
        real.append(await svc.login(user["username"], "not the right password at all"))
        ghost.append(await svc.login("no-such-user-anywhere", "not the right password at all"))
    shape = [(r.status_code, r.json()["detail"], r.json()["type"]) for r in real]
    assert shape == [(g.status_code, g.json()["detail"], g.json()["type"]) for g in ghost]
    assert [r.status_code for r in real] == [401] * 5 + [429]
    assert real[-1].headers["retry-after"] == ghost[-1].headers["retry-after"] == "1"
    # even the right password waits while delayed
    assert (await svc.login(user["username"], user["password"])).status_code == 429


async def test_twenty_failures_lock_the_account_for_fifteen_minutes_and_mail_the_user(svc):
    user = await svc.new_user()
    for _ in range(20):
        await _pass_time(svc, user["username"])
        answer = await svc.login(user["username"], "still not the right password")
        assert answer.status_code == 401
    await _pass_time(svc, user["username"])
    locked = await svc.login(user["username"], user["password"])
    assert locked.status_code == 429
    assert 800 < int(locked.headers["retry-after"]) <= 900
    (mail,) = await svc.mails("account_locked", user["email"])
    assert mail["context"]["locked_minutes"] == 15


async def test_client_address_over_its_failure_budget_is_throttled(svc):
    address = "10.9.9.9"
    async with svc.pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO rate_events (key) VALUES ($1)",
            [(throttle_key("login-ip", address),)] * 1000,
        )
    async with svc.client_from(address) as client:
        answer = await client.post(
            f"{API}/auth/login", json={"username": "whoever", "password": "whatever it is"}
        )
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/account-requests",
            {
                "name": "A",
                "email": "not-an-address",
                "organisation_id": "00000000-0000-0000-0000-000000000000",
            },
            "email",
        ),
        (
            "/account-requests",
            {
                "name": "A",
                "email": "a@example.nl",
                "organisation_id": "00000000-0000-0000-0000-000000000000",
            },
            "organisation_id",
        ),
        (
            "/account-requests",
            {"name": "A", "email": "a@example.nl", "organisation_id": "x"},
            "organisation_id",
        ),
        ("/auth/login", {"username": "a"}, "password"),
        (
            "/auth/password-reset",
            {"token": "made-up", "new_password": "whatever long enough"},
            "token",
        ),
        ("/auth/password-forgotten", {"username": "a"}, "email"),
    ],
)
async def test_bad_input_answers_problem_json_with_field_errors(svc, path, body, field):
    answer = await svc.client.post(f"{API}{path}", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json()["errors"]]


async def test_weak_and_oversized_passwords_are_refused_with_a_reason(svc):
    user = await svc.new_user()
    await svc.client.post(
        f"{API}/auth/password-forgotten",
        json={"username": user["username"], "email": user["email"]},
    )
    (mail,) = await svc.mails("password_reset", user["email"])
    token = mail["context"]["reset_url"].split("#token=")[1]
    for password, code in [
        ("kort", "too_short"),
        ("p" * 300, "too_long"),
        ("password1234567890", "common"),
    ]:
        answer = await svc.client.post(
            f"{API}/auth/password-reset", json={"token": token, "new_password": password}
        )
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["type"] == code


async def test_oversized_body_and_garbage_answer_problem_json(svc):
    big = await svc.client.post(
        f"{API}/auth/login", content=b"x" * 400_000, headers={"content-type": "application/json"}
    )
    assert big.status_code == 413
    assert big.headers["content-type"] == "application/problem+json"
    garbage = await svc.client.post(
        f"{API}/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 422
    assert garbage.headers["content-type"] == "application/problem+json"


async def test_expired_or_forged_access_token_is_refused(svc):
    answer = await svc.client.get(f"{API}/me", headers={"Authorization": "Bearer abc.def.ghi"})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
