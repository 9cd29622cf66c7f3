"""Servers a fault test may really stop: a private RabbitMQ node and private PostgreSQL.

Never the machine's shared servers. Each instance lives in its own directory under /tmp
(mode 755, owned by the server's system user when we run as root), listens on free
loopback ports and is removed afterwards. The platform (`FaultPlatform`) is the real
service processes of `scripts/devstack.py` on these servers, without gateway and web
client (the faults are between services, broker and databases).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import asyncpg

from bibmon_common.testing.amqp import TCPProxy

RABBITMQ_BIN = Path(os.environ.get("BIBMON_TEST_RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))
RABBITMQ_HOME = "/var/lib/rabbitmq"  # the Debian package's user keeps the Erlang cookie here


def _listen_range() -> tuple[int, int]:
    """Ports below the kernel's ephemeral range (where outgoing connections get theirs)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return max(10000, low - 12000), low


def _free_port() -> int:
    """A port for a server of our own, free now and outside the ephemeral range.

    A port the kernel hands out for `bind(0)` is an ephemeral one: between picking it and
    the server binding it, any outgoing connection of the suite may take it (seen in CI:
    the private node's distribution port, `dist_port_already_used`). Outgoing connections
    never get a port below the ephemeral range.
    """
    import socket

    low, high = _listen_range()
    if high - low < 1000:  # an ephemeral range that starts low leaves no room below it
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    for _ in range(500):
        port = random.randrange(low, high)
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", port))  # also refused when 127.0.0.1:port is taken
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


def pg_bindir() -> Path:
    """The newest installed PostgreSQL server binaries (Debian layout), else PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    which = shutil.which("pg_ctl")
    if which is None:
        raise RuntimeError("no PostgreSQL server binaries (pg_ctl) found")
    return Path(which).parent


def _as(user: str, args: list[str]) -> list[str]:
    """Run as the server's system user when we are root (both servers refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", user, "--", *args]
    return args


def _private_dir(prefix: str, owner: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(path, owner)
    return path


def port_open(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateRabbit:
    """One RabbitMQ node of our own (`bibmon-faults-<n>@localhost`), no plugins."""

    def __init__(self) -> None:
        self.dir = _private_dir("bibmon-faults-rmq-", "rabbitmq")
        self.port = _free_port()
        self.dist_port = _free_port()
        self.node = f"bibmon-faults-{self.port}@localhost"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "HOME": RABBITMQ_HOME if os.geteuid() == 0 else env.get("HOME", "/tmp"),
                "RABBITMQ_NODENAME": self.node,
                "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.dir / "log"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
                "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
                "RABBITMQ_PID_FILE": str(self.dir / "pid"),
            }
        )
        return env

    def ctl(self, *args: str, timeout: float = 300) -> str:
        """rabbitmqctl against this node only."""
        result = subprocess.run(
            _as("rabbitmq", [str(RABBITMQ_BIN / "rabbitmqctl"), "-q", "-n", self.node, *args]),
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd="/tmp",
        )
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {result.stderr or result.stdout}")
        return result.stdout

    def start(self) -> None:
        # A port taken between picking and binding (by a server of another test run on
        # the machine) ends the node at once: pick new ports and start again.
        for attempt in range(3):
            try:
                self._start()
                return
            except RuntimeError as exc:
                port_taken = "already_used" in str(exc) or "eaddrinuse" in str(exc)
                if attempt == 2 or not port_taken:
                    raise
            self.port, self.dist_port = _free_port(), _free_port()
            self.node = f"bibmon-faults-{self.port}@localhost"

    def _start(self) -> None:
        (self.dir / "enabled_plugins").write_text("[].\n")
        # Our own listener: the machine's /etc/rabbitmq/rabbitmq.conf names the shared port.
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\n"
            "log.console = false\n"
            "vm_memory_high_watermark.relative = 0.2\n"
        )
        for sub in ("mnesia", "log"):
            (self.dir / sub).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            for path in self.dir.rglob("*"):
                shutil.chown(path, "rabbitmq")
        self.process = subprocess.Popen(
            _as("rabbitmq", [str(RABBITMQ_BIN / "rabbitmq-server")]),
            env=self._env(),
            stdout=(self.dir / "stdout").open("ab"),
            stderr=subprocess.STDOUT,
            cwd="/tmp",
            start_new_session=True,
        )
        self._await_startup(120)

    def _await_startup(self, within: float) -> None:
        # The node registers with epmd a moment after it starts; until then the CLI fails.
        deadline = time.monotonic() + within
        while True:
            try:
                self.ctl("await_startup", "--timeout", "30", timeout=40)
                return
            except RuntimeError:
                if self.process is not None and self.process.poll() is not None:
                    tail = (self.dir / "stdout").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"the private RabbitMQ node stopped:\n{tail}") from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def stop_app(self) -> None:
        """Stop the broker (every connection closed, the port refuses) but keep the node."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self._await_startup(60)

    def queues(self) -> dict[str, int]:
        """Messages per queue (ready + unacknowledged), counted by the broker."""
        out = self.ctl("list_queues", "name", "messages", "--formatter", "json")
        return {q["name"]: int(q["messages"]) for q in json.loads(out or "[]")}

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.ctl("stop", timeout=60)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, 9)
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivatePostgres:
    """A PostgreSQL cluster of our own that a test may stop, crash and start again."""

    def __init__(self, name: str, *, max_connections: int = 200) -> None:
        self.dir = _private_dir(f"bibmon-faults-pg-{name}-", "postgres")
        self.data = self.dir / "data"
        self.port = _free_port()
        self.max_connections = max_connections

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(
            _as("postgres", [str(pg_bindir() / tool), *args]),
            check=True,
            stdout=subprocess.DEVNULL,
            cwd="/tmp",
        )

    def start(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir}"
            f" -c max_connections={self.max_connections} -c fsync=off"
        )
        self._pg(
            "pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: no checkpoint, WAL replayed at the next start."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class BackgroundLoop:
    """An event loop in a thread, for the TCP proxy while tests run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 30) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class ConnectionCutter:
    """A TCP proxy between the services and the private node: cuts every AMQP connection
    on demand (a network fault), while `PrivateRabbit.stop_app` is the broker stopping."""

    def __init__(self, target_port: int) -> None:
        self.bg = BackgroundLoop()
        self.proxy = TCPProxy("127.0.0.1", target_port)
        self.bg.run(self.proxy.start())

    def url(self, amqp_url: str) -> str:
        return self.proxy.url(amqp_url)

    def cut(self) -> int:
        """Reset every open connection; return how many clients were connected."""
        count = self.proxy.connection_count
        self.bg.run(self.proxy.disconnect())
        return count

    @property
    def connections(self) -> int:
        return self.proxy.connection_count

    def close(self) -> None:
        self.bg.run(self.proxy.close())
        self.bg.close()


def http_status(url: str, timeout: float = 3.0) -> int:
    """The status of a GET, 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


def metrics(url: str) -> dict[str, float]:
    """A Prometheus text page as {'name{labels}': value}."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            out[name] = float(value)
    return out


async def fetchval(dsn: str, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def fetch(dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


def wait_for(probe: Any, within: float, interval: float = 0.5, what: str = "") -> Any:
    """Poll a synchronous probe until truthy; fail with `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what or probe}")
        time.sleep(interval)
