"""Broker least privilege: the committed definitions, loaded on a test vhost, hold.

Every user of deploy/rabbitmq/definitions.json is created under a name unique to this run
(`<tag>-<service>`, deleted afterwards) on a vhost of its own, exactly as compose and
Kubernetes import it, and the services' own kernel code connects with them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika
import aiormq
import asyncpg
import pytest
import pytest_asyncio
from yarl import URL

from bibmon_common.contracts.identity import UserErased
from bibmon_common.contracts.notifier import SendEmail
from bibmon_common.db import create_pool
from bibmon_common.events import CloudEvent, Message
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.consumer import PARKING_REASON_HEADER, Consumer
from bibmon_common.messaging.outbox import OUTBOX_INBOX_DDL
from bibmon_common.messaging.permissions import (
    ADMIN_USER,
    EXPORT_USER,
    SERVICE_USER_PREFIX,
    SERVICES,
    render,
)
from bibmon_common.messaging.topology import COMMANDS_EXCHANGE, EVENTS_EXCHANGE
from bibmon_common.testing.amqp import BASE_AMQP_URL, RABBITMQCTL, _rabbitmqctl
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.wait import eventually

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"


def test_definitions_file_is_generated_from_the_kernel_table() -> None:
    assert DEFINITIONS.read_text(encoding="utf-8") == render(), "run `make schemas`"


def _rabbit_sha256(password: str) -> str:
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


class TestBroker:
    """The definitions on a vhost of their own, and an AMQP URL per user."""

    def __init__(self, tag: str, vhost: str, passwords: dict[str, str]) -> None:
        self.tag = tag
        self.vhost = vhost
        self.passwords = passwords

    __test__ = False

    def user(self, role: str) -> str:
        return f"{self.tag}-{role}"

    def url(self, role: str) -> str:
        user = self.user(role)
        base = URL(BASE_AMQP_URL)
        return str(
            base.with_user(user).with_password(self.passwords[user]).with_path("/" + self.vhost)
        )


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def rabbit() -> AsyncIterator[TestBroker]:
    tag = f"sec{uuid.uuid4().hex[:8]}"
    vhost = f"bibmon_sec_{tag}"
    rename = {f"{SERVICE_USER_PREFIX}{s}": f"{tag}-{s}" for s in SERVICES}
    rename[ADMIN_USER] = f"{tag}-admin"
    rename[EXPORT_USER] = f"{tag}-kbexport"
    text = DEFINITIONS.read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    doc.pop("_comment", None)
    passwords = {new: secrets.token_urlsafe(16) for new in rename.values()}
    for user in doc["users"]:
        user["name"] = rename[user["name"]]
        user["password_hash"] = _rabbit_sha256(passwords[user["name"]])
    for section in ("permissions", "topic_permissions"):
        for entry in doc[section]:
            entry["user"] = rename[entry["user"]]
    for section in ("vhosts",):
        for entry in doc[section]:
            entry["name"] = vhost
    for section in ("permissions", "topic_permissions", "queues", "exchanges", "bindings"):
        for entry in doc[section]:
            entry["vhost"] = vhost
    # The node reads the file itself (as its own user), and imports asynchronously.
    path = _readable_file(tag, json.dumps(doc))
    folder = path.parent
    try:
        await _rabbitmqctl("import_definitions", str(path))
        await eventually(
            lambda: _bindings_loaded(vhost, len(doc["bindings"])), within=60, interval=0.5
        )
    finally:
        shutil.rmtree(folder)
    try:
        yield TestBroker(tag, vhost, passwords)
    finally:
        await _rabbitmqctl("delete_vhost", vhost)
        for user in rename.values():
            await _rabbitmqctl("delete_user", user)


def _readable_file(tag: str, text: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"{tag}-"))
    folder.chmod(0o755)
    path = folder / "definitions.json"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    return path


async def _bindings_loaded(vhost: str, count: int) -> bool:
    """True once the asynchronous import has created every binding (its last step)."""
    proc = await asyncio.create_subprocess_exec(
        RABBITMQCTL,
        "-q",
        "list_bindings",
        "-p",
        vhost,
        "source_name",
        "destination_name",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await proc.communicate()
    return proc.returncode == 0 and out.decode().count("bibmon.dlx") >= count


async def _open_channels(user: str) -> int:
    proc = await asyncio.create_subprocess_exec(
        RABBITMQCTL,
        "-q",
        "list_channels",
        "user",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await proc.communicate()
    return sum(1 for line in out.decode().split() if line.strip() == user)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with fresh_database("bibmon_sec_broker") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(OUTBOX_INBOX_DDL)
        finally:
            await conn.close()
        pool = await create_pool(dsn, max_size=4)
        yield pool
        await pool.close()


@pytest_asyncio.fixture(loop_scope="session")
async def brokers(rabbit: TestBroker) -> AsyncIterator[Callable[[str], Awaitable[Broker]]]:
    opened: list[Broker] = []

    async def open_(role: str) -> Broker:
        broker = Broker(rabbit.url(role), f"test-{role}", reconnect_interval=0.5)
        await broker.connect()
        opened.append(broker)
        return broker

    yield open_
    for broker in opened:
        await broker.close()


def _command() -> SendEmail:
    return SendEmail(
        idempotency_key=f"sec-{uuid.uuid4()}",
        template="password_reset",
        locale="nl",
        recipient_email="victim@example.org",
        recipient_name="Victim",
        subject_user_id=uuid.uuid4(),
        context={"reset_url": "https://example.org/reset#token", "expires_minutes": 30},
    )


def _body(message: Message, source: str) -> tuple[str, bytes]:
    envelope = CloudEvent(source=source, type=message.type, data=message.model_dump(mode="json"))
    return str(envelope.id), envelope.to_bytes()


async def _raw_channel(url: str) -> tuple[aio_pika.abc.AbstractConnection, Any]:
    connection = await aio_pika.connect(url)
    channel = await connection.channel(publisher_confirms=True)
    return connection, channel


@pytest.mark.asyncio(loop_scope="session")
async def test_every_service_connects_and_consumes_with_its_own_user(
    rabbit: TestBroker, pool: asyncpg.Pool, brokers: Callable[[str], Awaitable[Broker]]
) -> None:
    async def nothing(conn: Any, message: Message, envelope: CloudEvent) -> None:
        return None

    from bibmon_common.events import registry

    for service, access in SERVICES.items():
        broker = await brokers(service)
        assert broker.is_connected
        assert not broker.declares_exchanges  # least privilege: the definitions declare them
        # The refused first channel is not restored by the robust connection.
        await asyncio.sleep(0.5)
        assert await _open_channels(rabbit.user(service)) == 1
        for queue in access.queues:
            exchange = COMMANDS_EXCHANGE if queue.endswith(".commands") else EVENTS_EXCHANGE
            prefixes = access.consumes[exchange]
            # Every registered type the service may bind, as its real consumers do.
            types = [
                t
                for t, cls in registry.items()
                if cls.exchange == exchange and t.startswith(tuple(prefixes))
            ]
            assert types, (service, queue)
            consumer = Consumer(
                broker,
                pool,
                queue=queue,
                exchange=exchange,
                handlers=dict.fromkeys(types, nothing),
                retry_delays=(0.2,),
            )
            await consumer.start()
            assert consumer.is_consuming
            await consumer.stop(grace_period=1)


@pytest.mark.asyncio(loop_scope="session")
async def test_reporting_may_not_publish_commands(rabbit: TestBroker) -> None:
    connection, channel = await _raw_channel(rabbit.url("reporting"))
    try:
        exchange = await channel.get_exchange(COMMANDS_EXCHANGE, ensure=False)
        message_id, body = _body(_command(), "bibmon-reporting")
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await exchange.publish(
                aio_pika.Message(body, message_id=message_id), routing_key=SendEmail.type
            )
    finally:
        await connection.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_reporting_may_not_publish_identitys_events(rabbit: TestBroker) -> None:
    connection, channel = await _raw_channel(rabbit.url("reporting"))
    try:
        exchange = await channel.get_exchange(EVENTS_EXCHANGE, ensure=False)
        message_id, body = _body(UserErased(user_id=uuid.uuid4()), "bibmon-reporting")
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await exchange.publish(
                aio_pika.Message(body, message_id=message_id), routing_key=UserErased.type
            )
    finally:
        await connection.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_reporting_may_not_consume_the_notifiers_queue_nor_bind_commands(
    rabbit: TestBroker, brokers: Callable[[str], Awaitable[Broker]], pool: asyncpg.Pool
) -> None:
    notifier = await brokers("notifier")
    consumer = Consumer(
        notifier,
        pool,
        queue="notifier.commands",
        exchange=COMMANDS_EXCHANGE,
        handlers={SendEmail.type: _never},
        retry_delays=(0.2,),
    )
    await consumer.start()  # the queue exists
    await consumer.stop(grace_period=1)

    for queue in ("notifier.commands", "notifier.commands.parking"):
        connection, channel = await _raw_channel(rabbit.url("reporting"))
        try:
            q = await channel.declare_queue(queue, passive=True)
            with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                await q.consume(_ignore)
        finally:
            await connection.close()

    # Nor a queue of its own bound to the commands exchange or to the parking DLX.
    for exchange, key in ((COMMANDS_EXCHANGE, "#"), ("bibmon.dlx", "notifier.commands")):
        connection, channel = await _raw_channel(rabbit.url("reporting"))
        try:
            spy = await channel.declare_queue(
                f"reporting.spy.{uuid.uuid4().hex[:6]}", exclusive=True
            )
            with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                await spy.bind(exchange, routing_key=key)
        finally:
            await connection.close()

    # And the KB systems' user reads the exports only.
    connection, channel = await _raw_channel(rabbit.url("kbexport"))
    try:
        kb = await channel.declare_queue(f"kb.test.{uuid.uuid4().hex[:6]}", exclusive=True)
        await kb.bind("bibmon.exports", routing_key="#")
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await kb.bind(EVENTS_EXCHANGE, routing_key="#")
    finally:
        await connection.close()


async def _ignore(message: Any) -> None:
    return None


async def _never(conn: Any, message: Message, envelope: CloudEvent) -> None:
    raise AssertionError("a forged command reached the handler")


@pytest.mark.asyncio(loop_scope="session")
async def test_a_forged_user_id_is_refused_by_the_broker(rabbit: TestBroker) -> None:
    connection, channel = await _raw_channel(rabbit.url("reporting"))
    try:
        exchange = await channel.get_exchange(EVENTS_EXCHANGE, ensure=False)
        message_id, body = _body(UserErased(user_id=uuid.uuid4()), "bibmon-identity")
        with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed):
            await exchange.publish(
                aio_pika.Message(body, message_id=message_id, user_id=rabbit.user("identity")),
                routing_key="reporting.anything",
            )
    finally:
        await connection.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_the_notifier_parks_a_command_a_service_may_not_send(
    rabbit: TestBroker, brokers: Callable[[str], Awaitable[Broker]], pool: asyncpg.Pool
) -> None:
    handled: list[str] = []

    async def record(conn: Any, message: Message, envelope: CloudEvent) -> None:
        assert isinstance(message, SendEmail)
        handled.append(message.idempotency_key)

    notifier = await brokers("notifier")
    consumer = Consumer(
        notifier,
        pool,
        queue="notifier.commands",
        exchange=COMMANDS_EXCHANGE,
        handlers={SendEmail.type: record},
        retry_delays=(0.2,),
    )
    await consumer.start()
    try:
        # Reporting may write to the default exchange (its own retries), so it can drop a
        # command straight into the notifier's queue: RabbitMQ stamps its user on it.
        reporting = await brokers("reporting")
        forged = _command()
        message_id, body = _body(forged, "bibmon-identity")
        await reporting.publish("", "notifier.commands", body, message_id=message_id)
        # identity is allowed.
        identity = await brokers("identity")
        genuine = _command()
        genuine_id, genuine_body = _body(genuine, "bibmon-identity")
        await identity.publish(
            COMMANDS_EXCHANGE, SendEmail.type, genuine_body, message_id=genuine_id
        )

        async def genuine_handled() -> bool:
            return genuine.idempotency_key in handled

        await eventually(genuine_handled, within=10)

        admin = await brokers("admin")
        channel = await admin.channel()
        parking = await channel.get_queue("notifier.commands.parking", ensure=False)

        async def parked() -> Any:
            return await parking.get(fail=False, no_ack=True)

        message = await eventually(parked, within=10)
        assert message.message_id == message_id
        assert message.headers[PARKING_REASON_HEADER] == "forbidden_sender"
        assert forged.idempotency_key not in handled
        await admin.release_channel(channel)
    finally:
        await consumer.stop(grace_period=1)
