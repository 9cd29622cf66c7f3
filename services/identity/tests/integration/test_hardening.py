"""Issue 10: the attacks a security review found, each shown closed against the real servers."""

import uuid

import pytest

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
