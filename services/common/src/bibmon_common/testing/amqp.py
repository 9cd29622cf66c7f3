"""RabbitMQ helpers for tests: a throw-away vhost per test session and a TCP proxy for outages.

Tests never touch objects of the default vhost and never stop the shared broker; an
outage is simulated between client and broker by `TCPProxy` (the way aio-pika's own
suite tests reconnects).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from types import TracebackType

import structlog
from yarl import URL

from bibmon_common.events import CloudEvent, Message, to_envelope
from bibmon_common.messaging.broker import Broker

log = structlog.get_logger(__name__)

BASE_AMQP_URL = os.environ.get("BIBMON_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
RABBITMQCTL = os.environ.get("BIBMON_TEST_RABBITMQCTL", "rabbitmqctl")

__all__ = ["BASE_AMQP_URL", "TCPProxy", "fresh_vhost", "publish_as", "with_address"]


async def _rabbitmqctl(*args: str) -> None:
    if shutil.which(RABBITMQCTL) is None:
        raise RuntimeError(f"{RABBITMQCTL} not found; set BIBMON_TEST_RABBITMQCTL")
    proc = await asyncio.create_subprocess_exec(
        RABBITMQCTL,
        "-q",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(
            f"rabbitmqctl {' '.join(args)} failed ({proc.returncode}): "
            f"{(stderr or stdout).decode(errors='replace').strip()}"
        )


@contextlib.asynccontextmanager
async def fresh_vhost(
    prefix: str = "bibmon_test", *, base_url: str = BASE_AMQP_URL
) -> AsyncIterator[str]:
    """Create `<prefix>_<random>` with full rights for the URL's user; yield its URL; delete it."""
    base = URL(base_url)
    user = base.user or "guest"
    vhost = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await _rabbitmqctl("add_vhost", vhost)
    try:
        await _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        # yarl quotes the path; the vhost name has no characters that need it.
        yield str(base.with_path("/" + vhost))
    finally:
        try:
            await _rabbitmqctl("delete_vhost", vhost)
        except Exception as exc:
            log.warning("testing.vhost_delete_failed", vhost=vhost, error=str(exc))


def with_address(amqp_url: str, host: str, port: int) -> str:
    """The same AMQP URL (credentials, vhost) pointed at another host and port."""
    return str(URL(amqp_url).with_host(host).with_port(port))


class TCPProxy:
    """A loopback TCP proxy that can cut all connections and stall traffic on demand."""

    def __init__(
        self,
        target_host: str = "127.0.0.1",
        target_port: int = 5672,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._clients: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port clients connect to (known after `start()`)."""
        return self._port

    @property
    def connection_count(self) -> int:
        """Client connections currently open through the proxy."""
        return sum(1 for w in self._clients if not w.is_closing())

    def url(self, amqp_url: str) -> str:
        """`amqp_url` rewritten to go through this proxy."""
        return with_address(amqp_url, self.host, self.port)

    async def start(self) -> None:
        """Listen on the loopback address."""
        self._server = await asyncio.start_server(self._on_client, self.host, self._port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        self.resume()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await self.disconnect()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> TCPProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def disconnect(self) -> None:
        """Reset every open connection, both sides (like a broker or network crash)."""
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await asyncio.sleep(0)

    def pause(self) -> None:
        """Blackhole: forward nothing and hold new connections (no RST, like a dead link)."""
        self._flowing.clear()

    def resume(self) -> None:
        """Forward again, including what was held."""
        self._flowing.set()

    async def _on_client(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        self._writers.add(client_writer)
        self._clients.add(client_writer)
        try:
            await self._flowing.wait()
            if client_writer.is_closing():
                return
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
            except OSError:
                client_writer.transport.abort()
                return
            self._writers.add(upstream_writer)
            pipes = [
                asyncio.create_task(self._pipe(client_reader, upstream_writer)),
                asyncio.create_task(self._pipe(upstream_reader, client_writer)),
            ]
            self._tasks.update(pipes)
            try:
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in pipes:
                    task.cancel()
                    self._tasks.discard(task)
                for writer in (client_writer, upstream_writer):
                    writer.transport.abort()
                    self._writers.discard(writer)
        finally:
            self._writers.discard(client_writer)
            self._clients.discard(client_writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                await self._flowing.wait()
                if writer.is_closing():
                    return
                writer.write(data)
                await writer.drain()


async def publish_as(
    amqp_url: str, message: Message, *, source: str, connection_name: str = "bibmon-test"
) -> CloudEvent:
    """Publish one contract message as another service would (its envelope, on its
    exchange, confirmed by the broker); returns the envelope."""
    broker = Broker(amqp_url, connection_name)
    await broker.connect()
    try:
        envelope = to_envelope(message, source=source)
        await broker.publish(
            message.exchange,
            message.type,
            envelope.to_bytes(),
            message_id=str(envelope.id),
            headers={},
        )
    finally:
        await broker.close()
    return envelope
