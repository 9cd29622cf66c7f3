"""The notifier running for real: its own database and vhost, a real SMTP catcher."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest_asyncio
import uvicorn

from bibmon_common.app import ServiceContext
from bibmon_common.clock import FrozenClock
from bibmon_common.contracts.notifier import SendEmail
from bibmon_common.events import Message, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.testing.amqp import TCPProxy, fresh_vhost
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.service import RunningService, running_service
from bibmon_common.testing.smtp import SMTPCatcher
from bibmon_common.testing.tokens import TestKeys
from bibmon_common.testing.wait import eventually
from bibmon_identity import repository as identity_repo
from bibmon_identity.config import IdentitySettings
from bibmon_identity.main import create_app as create_identity_app
from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.deps import NotifierDeps
from bibmon_notifier.main import MIGRATIONS_DIR, create_app

ISSUER = "bibmon-identity-test"
KID = "test-key"
RETRY_DELAYS = (0.3, 0.3)  # three attempts in well under a second
# Identity's recipient endpoint takes tokens signed with this secret only, which identity
# and the notifier share (and no other service); the general service secret differs.
RECIPIENT_TOKEN_SECRET = "recipient-secret-of-identity-and-notifier-" + uuid.uuid4().hex
SERVICE_TOKEN_SECRET = "service-secret-every-service-holds-" + uuid.uuid4().hex


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def database_dsn() -> AsyncIterator[str]:
    async with fresh_database("bibmon_notifier_test", migrations_dir=MIGRATIONS_DIR) as dsn:
        yield dsn


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def amqp_url() -> AsyncIterator[str]:
    async with fresh_vhost("bibmon_notifier_test") as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def smtp() -> AsyncIterator[SMTPCatcher]:
    async with SMTPCatcher() as catcher:
        yield catcher


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_smtp(smtp: SMTPCatcher) -> SMTPCatcher:
    """The catcher with no messages and no failures armed."""
    smtp.clear()
    return smtp


class Keys(TestKeys):
    """Signs access tokens the way identity does; serves the JWKS."""

    def __init__(self) -> None:
        super().__init__("notifier", issuer=ISSUER, kid=KID)


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def keys() -> Keys:
    return Keys()


class Identity:
    """The real identity service on a loopback port, behind a proxy the tests can cut.

    People, organisations and contact persons are made with identity's own repository.
    """

    def __init__(self, app: Any, proxy: TCPProxy) -> None:
        self.app = app
        self.proxy = proxy

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy.port}"

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.ctx.pool

    async def organisation(self) -> uuid.UUID:
        organisation_id = uuid.uuid4()
        async with self.pool.acquire() as conn:
            await identity_repo.insert_organisation(
                conn,
                id=organisation_id,
                name=f"Bibliotheek Test {organisation_id.hex[:8]}",
                province="Utrecht",
                municipalities=["Teststad"],
                inhabitants=50_000,
                size_class="medium",
                source=None,
            )
        return organisation_id

    async def user(
        self, organisation_id: uuid.UUID, *, locale: str = "nl", primary: bool = False
    ) -> dict[str, Any]:
        """A staff member of the organisation; `primary` makes them its primary contact."""
        user_id = uuid.uuid4()
        user = {
            "id": user_id,
            "email": f"u{user_id.hex[:10]}@bieb.example.nl",
            "name": f"Medewerker {user_id.hex[:4]}",
        }
        async with self.pool.acquire() as conn:
            await identity_repo.insert_user(
                conn,
                id=user_id,
                username=f"u{user_id.hex[:12]}",
                name=user["name"],
                email=user["email"],
                roles=["library_staff"],
                organisation_id=organisation_id,
            )
            if locale != "nl":
                await identity_repo.update_user(conn, user_id, {"locale": locale})
            if primary:
                await identity_repo.update_organisation(
                    conn, organisation_id, {"primary_contact_user_id": user_id}
                )
        return user

    async def contact(
        self, survey_id: uuid.UUID, organisation_id: uuid.UUID, user_id: uuid.UUID
    ) -> None:
        """Register the survey's contact person for the organisation."""
        async with self.pool.acquire() as conn:
            await identity_repo.upsert_contact(
                conn,
                survey_id,
                organisation_id,
                user_id,
                None,  # type: ignore[arg-type]
            )

    async def disable(self, user_id: uuid.UUID) -> None:
        async with self.pool.acquire() as conn:
            await identity_repo.update_user(conn, user_id, {"disabled": True})

    @contextlib.asynccontextmanager
    async def down(self) -> AsyncIterator[None]:
        """Identity unreachable (connections refused) inside the block."""
        await self.proxy.close()
        try:
            yield
        finally:
            await self.proxy.start()


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def identity() -> AsyncIterator[Identity]:
    async with fresh_database("bibmon_notifier_test_identity") as dsn:
        settings = IdentitySettings(
            environment="test",
            database_url=dsn,
            # No broker: identity only answers HTTP here.
            start_background_workers=False,
            service_token_secret=SERVICE_TOKEN_SECRET,
            recipient_token_secret=RECIPIENT_TOKEN_SECRET,
            load_demo_data=False,
            log_json=False,
            log_level="WARNING",
        )
        app = create_identity_app(settings)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
        )
        serving = asyncio.create_task(server.serve())
        deadline = time.monotonic() + 30
        while not server.started:
            assert not serving.done(), "identity did not start"
            assert time.monotonic() < deadline, "identity did not start in time"
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with TCPProxy(target_port=port) as proxy:
            yield Identity(app, proxy)
        server.should_exit = True
        await serving


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def settings(
    database_dsn: str, amqp_url: str, smtp: SMTPCatcher, identity: Identity
) -> NotifierSettings:
    return NotifierSettings(
        environment="test",
        database_url=database_dsn,
        amqp_url=amqp_url,
        jwt_issuer=ISSUER,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_timeout_seconds=5,
        from_address="noreply@bibliotheekmonitor.test",
        support_address="support@bibliotheekmonitor.test",
        retry_delays_seconds=RETRY_DELAYS,
        poll_interval_seconds=0.1,
        sender_concurrency=2,
        identity_url=identity.url,
        identity_timeout_seconds=2,
        service_token_secret=SERVICE_TOKEN_SECRET,
        identity_token_secret=RECIPIENT_TOKEN_SECRET,
        public_base_url="https://bibliotheekmonitor.test",
        # Tests run the reminder scheduler's tick by hand (survey_mail.schedule_reminders).
        reminder_poll_seconds=3600,
        run_migrations_on_startup=False,
        log_json=False,
        log_level="WARNING",
    )


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def clock() -> FrozenClock:
    """The notifier's clock, given at create_app: survey rules ask it; tests move it."""
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def service(
    settings: NotifierSettings, keys: Keys, clock: FrozenClock
) -> AsyncIterator[RunningService]:
    app = create_app(
        settings, jwks_provider=keys.provider, consumer_retry_delays=(0.5,), clock=clock
    )
    async with running_service(
        app, base_url="http://notifier.test", startup_timeout=30, shutdown_timeout=30
    ) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def ctx(service: RunningService) -> ServiceContext[NotifierDeps]:
    return service.ctx


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def api(service: RunningService) -> httpx.AsyncClient:
    return service.client


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def pool(ctx: ServiceContext[NotifierDeps]) -> asyncpg.Pool:
    return ctx.pool


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def publisher(amqp_url: str, service: RunningService) -> AsyncIterator[Broker]:
    """Another service's connection: publishes commands and events like identity does."""
    broker = Broker(amqp_url, "bibmon-notifier-test-publisher")
    await broker.connect()
    yield broker
    await broker.close()


Publish = Callable[..., Awaitable[uuid.UUID]]


@pytest_asyncio.fixture(loop_scope="session")
async def publish(publisher: Broker) -> Publish:
    """Publish a contract as a CloudEvent; returns the message id (the inbox key)."""

    async def _publish(message: Message, *, message_id: uuid.UUID | None = None) -> uuid.UUID:
        envelope = to_envelope(message, source="bibmon-identity-test", id=message_id)
        await publisher.publish(
            message.exchange,
            message.type,
            envelope.to_bytes(),
            message_id=str(envelope.id),
            message_type=message.type,
        )
        return envelope.id

    return _publish


def _send_email(**overrides: Any) -> SendEmail:
    """A valid account_welcome command to a unique address."""
    fields: dict[str, Any] = {
        "idempotency_key": f"test:{uuid.uuid4()}",
        "template": "account_welcome",
        "locale": "nl",
        "recipient_email": f"user-{uuid.uuid4().hex[:8]}@bibliotheek-eindhoven.nl",
        "recipient_name": "Anna de Boer",
        "subject_user_id": uuid.uuid4(),
        "context": {
            "set_password_url": f"https://bibliotheekmonitor.test/welkom#token={uuid.uuid4().hex}",
            "username": "a.deboer",
            "organisation_name": "Bibliotheek Eindhoven",
            "expires_hours": 72,
        },
    }
    fields.update(overrides)
    return SendEmail(**fields)


@pytest_asyncio.fixture(loop_scope="session")
async def make_command() -> Callable[..., SendEmail]:
    """Factory of send_email commands; keyword arguments override the defaults."""
    return _send_email


wait_until = eventually  # tests import it from here


class Jobs:
    """Looks at the notifier's email_job table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def by_key(self, key: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow("SELECT * FROM email_job WHERE idempotency_key = $1", key)

    async def wait_status(self, key: str, *statuses: str, within: float = 5.0) -> asyncpg.Record:
        async def probe() -> asyncpg.Record | None:
            try:
                job = await self.by_key(key)
            except (
                asyncpg.PostgresConnectionError,
                asyncpg.InterfaceError,
                asyncpg.exceptions.InternalClientError,  # handed out before its close was seen
                OSError,
            ):
                # A test that ends every backend of the database (a restart) ends this
                # observer's too: look again with a new connection.
                return None
            return job if job is not None and job["status"] in statuses else None

        return await wait_until(probe, within)  # type: ignore[no-any-return]

    async def wait_processed(self, queue: str, message_id: uuid.UUID) -> None:
        """Wait until the consumer of `queue` has committed the message (inbox row)."""

        async def probe() -> bool:
            return bool(
                await self.pool.fetchval(
                    "SELECT 1 FROM inbox WHERE consumer = $1 AND message_id = $2",
                    queue,
                    message_id,
                )
            )

        await wait_until(probe)

    async def events(self, type_: str) -> list[dict[str, Any]]:
        """Payloads (`data`) of the outbox rows of one type."""
        rows = await self.pool.fetch("SELECT payload FROM outbox WHERE type = $1", type_)
        return [r["payload"]["data"] for r in rows]


@pytest_asyncio.fixture(loop_scope="session")
async def jobs(pool: asyncpg.Pool) -> Jobs:
    return Jobs(pool)
