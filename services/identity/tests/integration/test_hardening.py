"""Issue 10: the attacks a security review found, each shown closed against the real servers."""

import time
import uuid

import pytest

from bibmon_identity.domain import totp
from bibmon_identity.domain.throttling import throttle_key
from bibmon_identity.usecases import bootstrap

API = "/api/identity"
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def token_of(url: str) -> str:
    return url.split("#token=")[1]


async def test_published_commands_leave_no_link_address_or_name_in_the_outbox(svc):
    name = f"Persoon {uuid.uuid4().hex[:8]}"
    user = await svc.new_user(name=name)
    async with svc.client_from("10.5.0.1") as client:
        await client.post(
            f"{API}/auth/password-forgotten",
            json={"username": user["username"], "email": user["email"]},
        )
    (reset,) = await svc.mails("password_reset", user["email"])
    (welcome,) = await svc.mails("account_welcome", user["email"])
    secrets = [
        token_of(reset["context"]["reset_url"]),
        token_of(welcome["context"]["set_password_url"]),
        user["email"],
        name,
    ]
    await svc.wait_published()
    async with svc.pool.acquire() as conn:
        rows = await conn.fetch("SELECT type, payload::text AS payload FROM outbox")
    assert any(row["type"] == "notifier.send_email.v1" for row in rows)
    leaks = [(row["type"], s) for row in rows for s in secrets if s in row["payload"]]
    assert leaks == []


async def _totp_user(svc):
    """A researcher with TOTP enrolled; answers the user and the TOTP secret."""
    user = await svc.new_user(roles=["researcher"])
    login = (await svc.login(user["username"], user["password"])).json()
    secret, _ = await svc.enrol(login["access_token"])
    return user, secret


async def _reset_link(svc, user, address):
    async with svc.client_from(address) as client:
        asked = await client.post(
            f"{API}/auth/password-forgotten",
            json={"username": user["username"], "email": user["email"]},
        )
    assert asked.status_code == 202
    return token_of((await svc.mails("password_reset", user["email"]))[-1]["context"]["reset_url"])


async def _reset(svc, token, code):
    return await svc.client.post(
        f"{API}/auth/password-reset",
        json={"token": token, "new_password": "een heel ander nieuw wachtwoord", "code": code},
    )


async def test_five_wrong_codes_during_a_reset_spend_the_link(svc):
    user, secret = await _totp_user(svc)
    token = await _reset_link(svc, user, "10.5.0.2")
    answers = [await _reset(svc, token, "000000") for _ in range(5)]
    assert [a.status_code for a in answers] == [422] * 5
    assert [e["field"] for e in answers[0].json()["errors"]] == ["code"]
    assert "token" in [e["field"] for e in answers[-1].json()["errors"]]
    right = await _reset(svc, token, svc.next_code(secret))
    assert right.status_code == 422
    assert right.json()["errors"][0]["field"] == "token"
    # the password did not change
    assert (await svc.login(user["username"], user["password"])).json()["mfa_required"]


async def test_wrong_reset_codes_count_towards_the_second_factor_lock(svc):
    user, secret = await _totp_user(svc)
    for _ in range(2):
        token = await _reset_link(svc, user, "10.5.0.3")
        for _ in range(5):
            assert (await _reset(svc, token, "000000")).status_code == 422
    token = await _reset_link(svc, user, "10.5.0.3")
    # a right code is not even looked at while locked (so it stays unspent here)
    right = totp.code_at(secret, time.time())
    locked = await _reset(svc, token, right)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 800
    # the lock covers the login's second step too, and the user is told
    mfa_token = (await svc.login(user["username"], user["password"])).json()["mfa_token"]
    step = await svc.client.post(
        f"{API}/auth/login/mfa", json={"mfa_token": mfa_token, "code": right}
    )
    assert step.status_code == 429
    assert await svc.mails("account_locked", user["email"])


async def _waited(svc):
    """As if every caller had waited out their delay (not a lock): failures two minutes back."""
    async with svc.pool.acquire() as conn:
        await conn.execute(
            "UPDATE login_throttle SET last_failure_at = last_failure_at - interval '2 minutes'"
        )


async def _login_from(svc, address, username, password):
    async with svc.client_from(address) as client:
        return await client.post(
            f"{API}/auth/login", json={"username": username, "password": password}
        )


async def test_a_stranger_locks_only_their_own_address_out_of_an_account(svc):
    user = await svc.new_user()
    for _ in range(20):
        await _waited(svc)
        wrong = await _login_from(svc, "10.6.0.1", user["username"], "not the password at all")
        assert wrong.status_code == 401
    await _waited(svc)
    stranger = await _login_from(svc, "10.6.0.1", user["username"], user["password"])
    assert stranger.status_code == 429
    assert int(stranger.headers["retry-after"]) > 800
    owner = await _login_from(svc, "10.6.0.2", user["username"], user["password"])
    assert owner.status_code == 200, owner.text
    (mail,) = await svc.mails("account_locked", user["email"])
    assert mail["context"]["locked_from_one_address"] is True


async def test_failures_from_many_addresses_only_slow_an_account_down(svc):
    user = await svc.new_user()
    assert (
        await _login_from(svc, "10.6.1.1", user["username"], user["password"])
    ).status_code == 200
    for i in range(6):
        await _login_from(svc, f"10.6.1.{10 + i}", user["username"], "not the password at all")
    # a new address waits a little, never a lock
    slowed = await _login_from(svc, "10.6.1.99", user["username"], user["password"])
    assert slowed.status_code == 429
    assert int(slowed.headers["retry-after"]) <= 60
    # where the owner logged in before, the account-wide slow-down does not apply
    owner = await _login_from(svc, "10.6.1.1", user["username"], user["password"])
    assert owner.status_code == 200, owner.text


async def test_strangers_cannot_keep_the_bootstrap_admin_out(svc):
    for i in range(25):
        await _waited(svc)
        await _login_from(svc, f"10.6.2.{i}", "admin", "guessing the admin password")
    admin = await svc.login("admin", svc.admin_password)
    assert admin.status_code == 200, admin.text
    assert admin.json()["mfa_required"] is True


async def test_reset_requests_with_a_wrong_address_do_not_use_up_the_owners_reset_mails(svc):
    user = await svc.new_user()
    answers = []
    for i in range(5):
        async with svc.client_from(f"10.6.3.{i}") as client:
            answers.append(
                await client.post(
                    f"{API}/auth/password-forgotten",
                    json={"username": user["username"], "email": "attacker@example.org"},
                )
            )
    async with svc.client_from("10.6.3.100") as client:
        owner = await client.post(
            f"{API}/auth/password-forgotten",
            json={"username": user["username"], "email": user["email"]},
        )
    assert {(a.status_code, a.text) for a in answers} == {(owner.status_code, owner.text)}
    assert owner.status_code == 202
    assert len(await svc.mails("password_reset", user["email"])) == 1


async def _request_account(svc, address, email, name="Jan Jansen", message=""):
    async with svc.client_from(address) as client:
        return await client.post(
            f"{API}/account-requests",
            json={
                "name": name,
                "email": email,
                "organisation_id": await svc.organisation_id(),
                "message": message,
            },
        )


async def test_account_request_mails_carry_none_of_the_requesters_own_text(svc):
    email = f"r{uuid.uuid4().hex[:8]}@example.org"
    name = "Win een prijs op https://phish.example"
    message = "Bel ons op 0900-oplichting"
    answer = await _request_account(svc, "10.7.0.1", email, name=name, message=message)
    assert answer.status_code == 202
    rejected = await svc.client.post(
        f"{API}/account-requests/{answer.json()['id']}/reject", headers=svc.auth(), json={}
    )
    assert rejected.status_code == 200, rejected.text
    mails = await svc.mails("account_request_received", email) + await svc.mails(
        "account_rejected", email
    )
    assert len(mails) == 2
    for mail in mails:
        assert name not in str(mail)
        assert message not in str(mail)
    # KB's administrators still see both
    listed = await svc.client.get(
        f"{API}/account-requests?status=all&limit=500", headers=svc.auth()
    )
    (mine,) = [r for r in listed.json()["items"] if r["id"] == answer.json()["id"]]
    assert (mine["name"], mine["message"]) == (name, message)


async def test_one_address_gets_at_most_three_request_confirmations_a_day(svc):
    email = f"r{uuid.uuid4().hex[:8]}@example.org"
    answers = [await _request_account(svc, f"10.7.1.{i}", email) for i in range(5)]
    assert [a.status_code for a in answers] == [202] * 5
    assert len(await svc.mails("account_request_received", email)) == 3


async def test_an_email_change_spends_links_ends_sessions_and_tells_the_old_address(svc):
    user = await svc.new_user()
    session = (await svc.login(user["username"], user["password"])).json()
    token = await _reset_link(svc, user, "10.8.0.1")
    new_email = f"nieuw{uuid.uuid4().hex[:8]}@bieb.example.nl"
    changed = await svc.client.patch(
        f"{API}/users/{user['id']}", headers=svc.auth(), json={"email": new_email}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["email"] == new_email
    # the link mailed to the old address no longer works
    reset = await _reset(svc, token, None)
    assert reset.status_code == 422
    assert reset.json()["errors"][0]["field"] == "token"
    # the sessions have ended
    refreshed = await svc.client.post(
        f"{API}/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 401
    # the old address hears of it; the new one is not named to it
    (notice,) = await svc.mails("email_changed", user["email"])
    assert new_email not in str(notice)
    assert not await svc.mails("email_changed", new_email)
    # the same address again changes nothing and tells no one
    same = await svc.client.patch(
        f"{API}/users/{user['id']}", headers=svc.auth(), json={"email": new_email}
    )
    assert same.status_code == 200
    assert not await svc.mails("email_changed", new_email)


async def test_an_email_change_before_activation_sends_a_fresh_link_to_the_new_address(svc):
    email = f"nieuw{uuid.uuid4().hex[:8]}@bieb.example.nl"
    created = await svc.client.post(
        f"{API}/users",
        headers=svc.auth(),
        json={
            "name": "Nog Niet Actief",
            "email": email,
            "roles": ["library_staff"],
            "organisation_id": await svc.organisation_id(),
        },
    )
    user = created.json()
    (first,) = await svc.mails("account_welcome", email)
    corrected = f"juist{uuid.uuid4().hex[:8]}@bieb.example.nl"
    await svc.client.patch(
        f"{API}/users/{user['id']}", headers=svc.auth(), json={"email": corrected}
    )
    old = await svc.client.post(
        f"{API}/auth/password-reset",
        json={"token": token_of(first["context"]["set_password_url"]), "new_password": "x" * 20},
    )
    assert old.status_code == 422
    assert old.json()["errors"][0]["field"] == "token"
    (fresh,) = await svc.mails("account_welcome", corrected)
    ok = await svc.client.post(
        f"{API}/auth/password-reset",
        json={
            "token": token_of(fresh["context"]["set_password_url"]),
            "new_password": "een lang en eigen wachtwoord",
        },
    )
    assert ok.status_code == 204, ok.text


async def test_a_user_changes_their_password_and_their_other_sessions_end(svc):
    user = await svc.new_user()
    other = (await svc.login(user["username"], user["password"])).json()
    here = (await svc.login(user["username"], user["password"])).json()
    url = f"{API}/me/password"
    wrong = await svc.client.post(
        url,
        headers=svc.auth(here["access_token"]),
        json={"current_password": "not my password at all", "new_password": "x" * 20},
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "current_password"
    weak = await svc.client.post(
        url,
        headers=svc.auth(here["access_token"]),
        json={"current_password": user["password"], "new_password": "bibliotheek1234567"},
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "new_password"
    new_password = "een ander lang en eigen wachtwoord"
    changed = await svc.client.post(
        url,
        headers=svc.auth(here["access_token"]),
        json={"current_password": user["password"], "new_password": new_password},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["cache-control"] == "no-store"
    fresh = changed.json()
    # this device goes on with fresh tokens; every earlier session has ended
    assert (await svc.client.get(f"{API}/me", headers=svc.auth(fresh["access_token"]))).is_success
    for old in (other, here):
        refreshed = await svc.client.post(
            f"{API}/auth/refresh", json={"refresh_token": old["refresh_token"]}
        )
        assert refreshed.status_code == 401
    refreshed = await svc.client.post(
        f"{API}/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
    )
    assert refreshed.status_code == 200
    assert (await svc.login(user["username"], user["password"])).status_code == 401
    assert (await svc.login(user["username"], new_password)).status_code == 200
    assert await svc.mails("password_changed", user["email"])


async def test_guessing_the_current_password_is_throttled_like_a_login(svc):
    user = await svc.new_user()
    token = (await svc.login(user["username"], user["password"])).json()["access_token"]
    answers = [
        await svc.client.post(
            f"{API}/me/password",
            headers=svc.auth(token),
            json={"current_password": f"guess number {i} long", "new_password": "y" * 20},
        )
        for i in range(6)
    ]
    assert [a.status_code for a in answers] == [422] * 5 + [429]


async def test_the_bootstrap_admin_sets_an_email_and_a_new_password_at_first_login(svc):
    first = svc.admin_first_login
    assert first["scope"] == "account_setup"
    # a setup token opens nothing else
    assert svc.admin_setup_token_elsewhere.status_code == 403
    assert svc.admin_setup_token_elsewhere.json()["type"].endswith("account-setup-required")
    # then, as every kb_admin, TOTP enrolment
    assert svc.admin_setup["scope"] == "mfa_enrolment"
    me = (await svc.client.get(f"{API}/me", headers=svc.auth())).json()
    assert me["email"] == "beheer@kb.example.nl"
    assert me["setup_required"] is False
    # the bootstrap password is gone; setup is done once
    assert (await svc.login("admin", "bootstrap admin pass for tests")).status_code == 401
    again = await svc.client.post(
        f"{API}/me/account-setup",
        headers=svc.auth(),
        json={"email": "ander@kb.example.nl", "new_password": "nog een ander wachtwoord"},
    )
    assert again.status_code == 409


async def test_retention_purges_stale_pending_requests_and_old_client_addresses(svc):
    old = await _request_account(svc, "10.9.0.1", f"o{uuid.uuid4().hex[:8]}@example.org")
    recent = await _request_account(svc, "10.9.0.2", f"r{uuid.uuid4().hex[:8]}@example.org")
    async with svc.pool.acquire() as conn:
        await conn.execute(
            "UPDATE account_requests SET created_at = now() - interval '31 days' WHERE id = $1",
            uuid.UUID(old.json()["id"]),
        )
        await conn.execute(
            "UPDATE account_requests SET created_at = now() - interval '29 days' WHERE id = $1",
            uuid.UUID(recent.json()["id"]),
        )
        await conn.execute(
            "INSERT INTO audit_log (occurred_at, action, result, origin) VALUES "
            "(now() - interval '184 days', 'retention.probe.old', 'success', '10.9.9.1'), "
            "(now() - interval '182 days', 'retention.probe.recent', 'success', '10.9.9.2')"
        )
    await bootstrap.purge_once(svc.deps)
    async with svc.pool.acquire() as conn:
        requests = {
            str(r["id"])
            for r in await conn.fetch("SELECT id FROM account_requests WHERE status = 'pending'")
        }
        audit = {
            r["action"]: r["origin"]
            for r in await conn.fetch(
                "SELECT action, origin FROM audit_log WHERE action LIKE 'retention.probe.%'"
            )
        }
    assert old.json()["id"] not in requests
    assert recent.json()["id"] in requests
    # the entry stays (incident evidence), its client address goes
    assert audit == {"retention.probe.old": None, "retention.probe.recent": "10.9.9.2"}


async def test_a_reset_request_that_mails_nothing_leaves_no_trace_and_spends_no_link(svc):
    user = await svc.new_user()
    token = await _reset_link(svc, user, "10.10.0.1")
    counts = (
        "SELECT (SELECT count(*) FROM password_tokens), (SELECT count(*) FROM outbox), "
        "(SELECT count(*) FROM rate_events WHERE key = $1)"
    )
    account_key = throttle_key("reset", user["username"])
    async with svc.pool.acquire() as conn:
        before = await conn.fetchrow(counts, account_key)
    for username in (user["username"], f"niemand-{uuid.uuid4().hex[:6]}"):
        async with svc.client_from("10.10.0.2") as client:
            answer = await client.post(
                f"{API}/auth/password-forgotten",
                json={"username": username, "email": "someone.else@example.org"},
            )
        assert answer.status_code == 202
    async with svc.pool.acquire() as conn:
        after = await conn.fetchrow(counts, account_key)
    assert tuple(after) == tuple(before)
    done = await _reset(svc, token, None)
    assert done.status_code == 204, done.text
