"""One identity service per test session on a fresh database and RabbitMQ vhost.

It runs on the system clock, given at `create_app`: TOTP codes (computed here from
`time.time()`) and access-token expiry (checked by the kernel's verifier) follow the wall
clock, so identity's own rules do too.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import aio_pika
import httpx
import pytest_asyncio

from bibmon_common.clock import SystemClock
from bibmon_common.events import COMMANDS_EXCHANGE, EVENTS_EXCHANGE
from bibmon_common.messaging.topology import declare_topology
from bibmon_common.testing.amqp import fresh_vhost
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.service import RunningService, running_service
from bibmon_identity.config import IdentitySettings
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain import totp
from bibmon_identity.main import create_app

ADMIN_PASSWORD = "bootstrap admin pass for tests"
# What the admin chooses at first login instead of the bootstrap password.
ADMIN_NEW_PASSWORD = "het eigen wachtwoord van de beheerder"
ADMIN_EMAIL = "beheer@kb.example.nl"
DEMO_PASSWORD = "demo password for all staff"
PASSWORD = "een lang en eigen wachtwoord"
API = "/api/identity"


class Service:
    """The running app plus small helpers the tests share."""

    def __init__(self, running: RunningService, sink: Any) -> None:
        self.running = running
        self.app = running.app
        self.client = running.client
        self.sink = sink
        self.sent: dict[str, dict[str, Any]] = {}  # CloudEvents by id, as identity sent them
        self.used_steps: dict[str, int] = {}
        self.admin_token: str | None = None

    @property
    def deps(self) -> IdentityDeps:
        deps: IdentityDeps = self.running.deps
        return deps

    @property
    def pool(self) -> Any:
        return self.deps.pool

    def client_from(self, address: str) -> httpx.AsyncClient:
        return self.running.client_from(address)

    async def login(self, username: str, password: str, **kwargs: Any) -> httpx.Response:
        return await self.client.post(
            f"{API}/auth/login", json={"username": username, "password": password}, **kwargs
        )

    def next_code(self, secret: str) -> str:
        """A code for a step not used before (current or next: the ±1 window allows it)."""
        step = max(int(time.time() // 30), self.used_steps.get(secret, -1) + 1)
        assert step <= int(time.time() // 30) + 1, "test used too many codes in 30 s"
        self.used_steps[secret] = step
        return totp.code_at(secret, step * 30)

    async def enrol(self, token: str) -> tuple[str, dict[str, Any]]:
        """Enrol TOTP with an (enrolment-scope) token; return the secret and the answer."""
        headers = {"Authorization": f"Bearer {token}"}
        enrol = await self.client.post(f"{API}/me/mfa/totp", headers=headers)
        assert enrol.status_code == 200, enrol.text
        secret = enrol.json()["secret"]
        confirm = await self.client.post(
            f"{API}/me/mfa/totp/confirm", headers=headers, json={"code": self.next_code(secret)}
        )
        assert confirm.status_code == 200, confirm.text
        return secret, confirm.json()

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin_token}"}

    async def outbox(self, type_: str, **data: str) -> list[dict[str, Any]]:
        """Messages identity enqueued (CloudEvent data) of a type whose data fields match.

        Unpublished ones are read from the outbox, published ones from the sink queue
        (published rows keep no personal data). The outbox is read first: a row published
        meanwhile is already on the queue, as the relay marks it only after the confirm.
        """
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT payload::text AS payload FROM outbox WHERE published_at IS NULL"
            )
        envelopes = [json.loads(row["payload"]) for row in rows]
        while (message := await self.sink.get(no_ack=True, fail=False)) is not None:
            envelopes.append(json.loads(message.body))
        for envelope in envelopes:
            self.sent.setdefault(envelope["id"], envelope)
        return [
            envelope["data"]
            for envelope in sorted(self.sent.values(), key=lambda e: e["time"])
            if envelope["type"] == type_
            and all(str(envelope["data"].get(k)) == v for k, v in data.items())
        ]

    async def wait_published(self) -> None:
        """Wait until the relay has published every outbox row."""
        async with self.pool.acquire() as conn:
            for _ in range(200):
                due = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
                if not await conn.fetchval(due):
                    return
                await asyncio.sleep(0.05)
        raise AssertionError("the outbox relay did not publish within 10 s")

    async def mails(self, template: str, email: str) -> list[dict[str, Any]]:
        return await self.outbox("notifier.send_email.v1", template=template, recipient_email=email)

    async def organisation_id(self, index: int = 0) -> str:
        page = (await self.client.get(f"{API}/organisations?limit=500")).json()
        return page["items"][index]["id"]

    async def new_user(
        self,
        *,
        roles: list[str] | None = None,
        organisation_id: str | None = None,
        password: str = PASSWORD,
        name: str = "Test Persoon",
    ) -> dict[str, Any]:
        """Create a user through the admin API and set the password from the welcome mail."""
        roles = roles or ["library_staff"]
        if organisation_id is None and "library_staff" in roles:
            organisation_id = await self.organisation_id()
        email = f"u{uuid.uuid4().hex[:10]}@bieb.example.nl"
        created = await self.client.post(
            f"{API}/users",
            headers=self.auth(),
            json={
                "name": name,
                "email": email,
                "roles": roles,
                "organisation_id": organisation_id,
            },
        )
        assert created.status_code == 201, created.text
        user = created.json()
        (welcome,) = await self.mails("account_welcome", email)
        token = welcome["context"]["set_password_url"].split("#token=")[1]
        reset = await self.client.post(
            f"{API}/auth/password-reset", json={"token": token, "new_password": password}
        )
        assert reset.status_code == 204, reset.text
        return user | {"password": password}


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def svc():
    async with fresh_database("bibmon_t_identity") as dsn, fresh_vhost("bibmon_t_id") as amqp:
        settings = IdentitySettings(
            environment="test",
            database_url=dsn,
            amqp_url=amqp,
            public_base_url="https://bibliotheekmonitor.test",
            bootstrap_admin_password=ADMIN_PASSWORD,
            demo_password=DEMO_PASSWORD,
            load_demo_data=True,
            # argon2 cost lowered for test speed only (production refuses this).
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            argon2_parallelism=1,
            throttle_ip_failures=1000,
            log_json=False,
            log_level="WARNING",
        )
        connection = await aio_pika.connect(amqp)
        sink = await _sink(connection)
        app = create_app(settings, clock=SystemClock())
        async with (
            connection,
            running_service(app, base_url="https://identity.test") as running,
        ):
            service = Service(running, sink)
            await _admin_session(service)
            yield service


async def _sink(connection: aio_pika.abc.AbstractConnection) -> aio_pika.abc.AbstractQueue:
    """Stand in for the consumers: a queue bound to everything, so the relay can publish."""
    channel = await connection.channel()
    await declare_topology(channel)
    queue = await channel.declare_queue("identity-test.sink", durable=True)
    for exchange in (EVENTS_EXCHANGE, COMMANDS_EXCHANGE):
        await queue.bind(exchange, routing_key="#")
    return queue


async def _admin_session(svc: Service) -> None:
    """First login of the bootstrap admin: e-mail and new password, TOTP; keep the token."""
    first = await svc.login("admin", ADMIN_PASSWORD)
    assert first.status_code == 200, first.text
    svc.admin_first_login = first.json()  # type: ignore[attr-defined]
    setup_token = first.json()["access_token"]
    svc.admin_setup_token_elsewhere = (  # type: ignore[attr-defined]
        await svc.client.get(f"{API}/users", headers=svc.auth(setup_token))
    )
    setup = await svc.client.post(
        f"{API}/me/account-setup",
        headers=svc.auth(setup_token),
        json={"email": ADMIN_EMAIL, "new_password": ADMIN_NEW_PASSWORD},
    )
    assert setup.status_code == 200, setup.text
    svc.admin_setup = setup.json()  # type: ignore[attr-defined]
    secret, confirmed = await svc.enrol(setup.json()["access_token"])
    svc.admin_token = confirmed["access_token"]
    svc.admin_password = ADMIN_NEW_PASSWORD  # type: ignore[attr-defined]
    svc.admin_secret = secret  # type: ignore[attr-defined]
    svc.admin_recovery_codes = confirmed["recovery_codes"]  # type: ignore[attr-defined]
