"""Run the whole platform on one machine without Docker: `make run` and the end-to-end tests.

Needs PostgreSQL on 127.0.0.1:5432 and RabbitMQ on 127.0.0.1:5672 (as on the development
machines and CI). Starts a second, private PostgreSQL instance under var/ for the responses
database (it lives on a server of its own, away from identity's personal data), creates one
database and one role per service, starts the five services, the mail catcher and the nginx
gateway, and stops them all on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("identity", "surveys", "responses", "reporting", "notifier")
DEFAULT_PORTS = {
    "identity": 8101,
    "surveys": 8102,
    "responses": 8103,
    "reporting": 8104,
    "notifier": 8105,
    "web": 8106,
}
# The web client: a process like the services, but it keeps no data (no database, no broker).
WEB = "web"


class StackError(RuntimeError):
    """A problem the person running the stack can fix; printed as one line, no traceback."""


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pg_bindir() -> Path:
    """The newest installed PostgreSQL server binaries (Debian layout)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3])
    )
    if not candidates:
        found = shutil.which("pg_ctl")
        if found:
            return Path(found).parent
        raise StackError(
            "No PostgreSQL server binaries found: install them (apt-get install postgresql)."
        )
    return candidates[-1].parent


@dataclass
class PrivatePostgres:
    """A PostgreSQL instance of our own under var/, for the responses database."""

    data_dir: Path
    port: int
    started_here: bool = False

    def _as_postgres(self, args: list[str]) -> list[str]:
        # initdb and postgres refuse to run as root; the Debian package's user does it.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def running(self) -> bool:
        """True when our instance answers on its port."""
        return port_open("127.0.0.1", self.port, 0.5)

    def start(self) -> None:
        """initdb once, then start it (reusing a running one)."""
        if self.running():
            return
        bindir = pg_bindir()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir.parent, "postgres")
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.data_dir, "postgres")
            subprocess.run(
                self._as_postgres(
                    [
                        str(bindir / "initdb"),
                        "-D",
                        str(self.data_dir),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "--encoding=UTF8",
                        "--no-instructions",
                    ]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        sockdir = self.data_dir / "run"
        sockdir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(sockdir, "postgres")
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {sockdir} -c fsync=off"
        subprocess.run(
            self._as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-o",
                    opts,
                    "-l",
                    str(self.data_dir / "server.log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.started_here = True

    def stop(self) -> None:
        """Stop it if this process started it."""
        if not self.started_here:
            return
        subprocess.run(
            self._as_postgres(
                [str(pg_bindir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "stop"]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.started_here = False


@dataclass
class StackConfig:
    """Where and how the stack runs; the tests use their own ports, prefix and vhost."""

    var_dir: Path = ROOT / "var"
    gateway_port: int = int(os.environ.get("BIBMON_GATEWAY_PORT", "8080"))
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    responses_pg_port: int = int(os.environ.get("BIBMON_RESPONSES_PG_PORT", "5433"))
    amqp_url: str = os.environ.get("BIBMON_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    start_mailcatcher: bool = True
    mail_dir: Path | None = None
    db_prefix: str = "bibmon"
    services: tuple[str, ...] = SERVICES
    extra_env: dict[str, str] = field(default_factory=dict)
    load_demo_data: bool = True
    responses_pg_dir: Path | None = None

    def dsn(self, service: str) -> str:
        """The service's own role on the service's own database."""
        port = self.responses_pg_port if service == "responses" else self.pg_port
        name = f"{self.db_prefix}_{service}"
        return f"postgresql://{name}@{self.pg_host}:{port}/{name}"

    def admin_dsn(self, service: str) -> str:
        """The superuser on the server that holds the service's database."""
        port = self.responses_pg_port if service == "responses" else self.pg_port
        return f"postgresql://postgres@{self.pg_host}:{port}/postgres"

    @property
    def gateway_url(self) -> str:
        """Where people and tests reach the platform."""
        return f"http://127.0.0.1:{self.gateway_port}"


def load_dev_secrets(var_dir: Path) -> dict[str, str]:
    """Development secrets, generated once and kept in var/ so a rerun reuses them."""
    path = var_dir / "dev-secrets.json"
    data: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = {
        "BIBMON_BOOTSTRAP_ADMIN_PASSWORD": lambda: secrets.token_urlsafe(18),
        "BIBMON_DEMO_PASSWORD": lambda: secrets.token_urlsafe(18),
        "BIBMON_IDENTITY_DATA_KEY": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
        "SERVICE_TOKEN_SECRET": lambda: secrets.token_urlsafe(32),
        # identity and notifier only: signs the recipient look-up (ADR 0009).
        "RECIPIENT_TOKEN_SECRET": lambda: secrets.token_urlsafe(32),
    }
    changed = False
    for key, make in wanted.items():
        if key not in data:
            data[key] = make()
            changed = True
    if changed:
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)
    for key in (
        "BIBMON_BOOTSTRAP_ADMIN_PASSWORD",
        "BIBMON_DEMO_PASSWORD",
        "BIBMON_IDENTITY_DATA_KEY",
    ):
        if os.environ.get(key):
            data[key] = os.environ[key]
    return data


async def ensure_database(admin_dsn: str, name: str) -> None:
    """One role and one database per service; only that role (and the superuser) may connect."""
    import asyncpg

    conn = await asyncpg.connect(admin_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name):
            await conn.execute(f'CREATE ROLE "{name}" LOGIN')
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
        await conn.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{name}" FROM PUBLIC')
        await conn.execute(f'GRANT CONNECT ON DATABASE "{name}" TO "{name}"')
    finally:
        await conn.close()


async def drop_database(admin_dsn: str, name: str) -> None:
    """Drop a database and its role (tests clean up after themselves)."""
    import asyncpg

    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await conn.close()


def _nginx_render() -> Any:
    """deploy/nginx/render.py, imported from its path."""
    spec = importlib.util.spec_from_file_location("nginx_render", ROOT / "deploy/nginx/render.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gateway_limits() -> dict[str, str]:
    """The gateway's per-address limits: BIBMON_GATEWAY_<NAME> (API_RATE_LIMIT, API_BURST,
    AUTH_RATE_LIMIT, AUTH_BURST) from the environment, else deploy/nginx/render.py's
    defaults (docs/operations.md, "Gateway limits")."""
    defaults: dict[str, str] = _nginx_render().LIMIT_DEFAULTS
    return {name: os.environ.get(f"BIBMON_GATEWAY_{name}") or v for name, v in defaults.items()}


def render(template: Path, target: Path, values: dict[str, str]) -> None:
    """Fill the gateway template's `${NAME}` placeholders with deploy/nginx/render.py's checks."""
    module = _nginx_render()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        text = module.render(template.read_text(encoding="utf-8"), values)
    except ValueError as exc:
        raise StackError(f"{template.name}: {exc}") from exc
    target.write_text(text)


class Stack:
    """The running platform: private PostgreSQL, databases, services, mail catcher, gateway."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        # Known before load_dev_secrets() writes a new file (see check_leftover_databases).
        self.secrets_file = config.var_dir / "dev-secrets.json"
        self.secrets_were_kept = self.secrets_file.exists()
        self.secrets = load_dev_secrets(config.var_dir)
        self.private_pg = PrivatePostgres(
            config.responses_pg_dir or config.var_dir / "pg-responses", config.responses_pg_port
        )
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.demo_seeding: subprocess.Popen[bytes] | None = None  # bibmon-demo seed
        self.log_dir = config.var_dir / "log"
        # Callers that list ports for SERVICES only still get a web client.
        config.ports.setdefault(WEB, free_port())

    # -- infrastructure -------------------------------------------------------------------
    def check_infrastructure(self) -> None:
        """Say in one line what is missing and how to fix it."""
        c = self.config
        if not port_open(c.pg_host, c.pg_port):
            raise StackError(
                f"PostgreSQL does not answer on {c.pg_host}:{c.pg_port}. Start it with: "
                "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
            )
        amqp = urllib.parse.urlsplit(c.amqp_url)
        amqp_host, amqp_port = amqp.hostname or "127.0.0.1", amqp.port or 5672
        if not port_open(amqp_host, amqp_port):
            raise StackError(
                f"RabbitMQ does not answer on {amqp_host}:{amqp_port}. Start it with:"
                " rabbitmq-server -detached"
            )
        if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
            raise StackError(
                "nginx is not installed. Install it with: apt-get install -y nginx-light"
            )

    def check_leftover_databases(self) -> None:
        """Refuse to start when var/ is new but identity's database is not.

        identity encrypts its signing keys and TOTP seeds with the data key kept in
        var/dev-secrets.json; a new key cannot read them (cryptography's InvalidTag).
        """
        if self.secrets_were_kept or os.environ.get("BIBMON_IDENTITY_DATA_KEY"):
            return
        if "identity" not in self.config.services:
            return
        name = f"{self.config.db_prefix}_identity"

        async def exists() -> bool:
            import asyncpg

            conn = await asyncpg.connect(self.config.admin_dsn("identity"))
            try:
                return bool(
                    await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
                )
            finally:
                await conn.close()

        if asyncio.run(exists()):
            # Leave no new key behind: the next run must find the same situation.
            self.secrets_file.unlink(missing_ok=True)
            raise StackError(
                f"{self.config.var_dir} was deleted but the database {name} was not, and its "
                "data is encrypted with the key that was in var/: run `make reset` to start "
                "afresh (it removes the development databases and var/)."
            )

    def reset(self) -> list[str]:
        """Drop the development databases and remove var/; return what was removed."""
        removed: list[str] = []
        c = self.config

        async def drop_all() -> None:
            import asyncpg

            for svc in c.services:
                port = c.responses_pg_port if svc == "responses" else c.pg_port
                if not port_open(c.pg_host, port):
                    continue  # the private instance is not running: its files go with var/
                name = f"{c.db_prefix}_{svc}"
                conn = await asyncpg.connect(c.admin_dsn(svc))
                try:
                    found = await conn.fetchval(
                        "SELECT 1 FROM pg_database WHERE datname = $1", name
                    )
                finally:
                    await conn.close()
                if found:
                    await drop_database(c.admin_dsn(svc), name)
                    removed.append(f"database {name} (port {port})")

        asyncio.run(drop_all())
        if c.var_dir.exists():
            shutil.rmtree(c.var_dir)
            removed.append(str(c.var_dir))
        return removed

    def prepare_databases(self) -> None:
        """Start the private PostgreSQL for responses and create every service's database."""
        if "responses" in self.config.services:
            self.private_pg.start()

        async def create_all() -> None:
            for svc in self.config.services:
                await ensure_database(self.config.admin_dsn(svc), f"{self.config.db_prefix}_{svc}")

        asyncio.run(create_all())

    def drop_databases(self) -> None:
        """Remove every database and role this stack's prefix made."""

        async def drop_all() -> None:
            for svc in self.config.services:
                with contextlib.suppress(Exception):
                    await drop_database(
                        self.config.admin_dsn(svc), f"{self.config.db_prefix}_{svc}"
                    )

        asyncio.run(drop_all())

    # -- processes ------------------------------------------------------------------------
    def service_env(self, service: str) -> dict[str, str]:
        """The environment a service process gets."""
        c = self.config
        prefix = f"BIBMON_{service.upper()}_"
        env = {k: v for k, v in os.environ.items() if not k.startswith("BIBMON_")}
        env.update(
            {
                f"{prefix}ENVIRONMENT": "development",
                f"{prefix}DATABASE_URL": c.dsn(service),
                f"{prefix}AMQP_URL": c.amqp_url,
                f"{prefix}JWKS_URL": (
                    f"http://127.0.0.1:{c.ports['identity']}/api/identity/.well-known/jwks.json"
                ),
                f"{prefix}PUBLIC_BASE_URL": c.gateway_url,
                f"{prefix}SERVICE_TOKEN_SECRET": self.secrets["SERVICE_TOKEN_SECRET"],
                f"{prefix}LOG_JSON": "true",
                # uvicorn believes X-Forwarded-For only from the gateway (and the web
                # service), both on 127.0.0.1 here: per-address limits see the client.
                "FORWARDED_ALLOW_IPS": "127.0.0.1",
            }
        )
        if service == "identity":
            env["BIBMON_BOOTSTRAP_ADMIN_PASSWORD"] = self.secrets["BIBMON_BOOTSTRAP_ADMIN_PASSWORD"]
            env["BIBMON_DEMO_PASSWORD"] = self.secrets["BIBMON_DEMO_PASSWORD"]
            env["BIBMON_IDENTITY_DATA_KEY"] = self.secrets["BIBMON_IDENTITY_DATA_KEY"]
            # The recipient endpoint's secret, which only identity and notifier get.
            env["BIBMON_IDENTITY_RECIPIENT_TOKEN_SECRET"] = self.secrets["RECIPIENT_TOKEN_SECRET"]
            env["BIBMON_IDENTITY_LOAD_DEMO_DATA"] = "true" if c.load_demo_data else "false"
        if service == "surveys":
            env["BIBMON_SURVEYS_LOAD_DEMO_DATA"] = "true" if c.load_demo_data else "false"
        if service == "responses":
            env["BIBMON_RESPONSES_LOAD_DEMO_DATA"] = "true" if c.load_demo_data else "false"
        if service == "notifier":
            env["BIBMON_NOTIFIER_SMTP_HOST"] = c.smtp_host
            env["BIBMON_NOTIFIER_SMTP_PORT"] = str(c.smtp_port)
            env["BIBMON_NOTIFIER_SMTP_STARTTLS"] = "false"
            # Survey e-mails: the contact person's address is asked of identity at send time.
            env["BIBMON_NOTIFIER_IDENTITY_URL"] = f"http://127.0.0.1:{c.ports['identity']}"
            env["BIBMON_NOTIFIER_IDENTITY_TOKEN_SECRET"] = self.secrets["RECIPIENT_TOKEN_SECRET"]
        env.update(c.extra_env)
        return env

    def web_env(self) -> dict[str, str]:
        """The web client's environment: where the services answer on the internal network."""
        c = self.config
        env = {k: v for k, v in os.environ.items() if not k.startswith("BIBMON_")}
        env.update(
            {
                "BIBMON_WEB_ENVIRONMENT": "development",
                "BIBMON_WEB_PUBLIC_BASE_URL": c.gateway_url,
                "BIBMON_WEB_LOG_JSON": "true",
                **{
                    f"BIBMON_WEB_{svc.upper()}_URL": f"http://127.0.0.1:{c.ports[svc]}"
                    for svc in ("identity", "surveys", "responses", "reporting", "notifier")
                    if svc in c.ports
                },
            }
        )
        env.update({k: v for k, v in c.extra_env.items() if k.startswith("BIBMON_WEB_")})
        return env

    def start_web(self) -> None:
        """The web client: pages over the services' APIs; the gateway sends `/` to it."""
        bindir = Path(sys.executable).parent
        self._spawn(
            WEB,
            [
                str(bindir / "bibmon-web"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.config.ports[WEB]),
            ],
            env=self.web_env(),
        )

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env or dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop the children in order
        )

    @property
    def mail_dir(self) -> Path:
        """Where the mail catcher writes every message (var/mail/ unless configured)."""
        return self.config.mail_dir or Path(
            os.environ.get("BIBMON_MAIL_DIR", self.config.var_dir / "mail")
        )

    def start_mailcatcher(self) -> None:
        """The local SMTP server of `make run`: each message becomes an .eml in var/mail/."""
        mail_dir = self.mail_dir
        mail_dir.mkdir(parents=True, exist_ok=True)
        self._spawn(
            "mailcatcher",
            [
                sys.executable,
                "-m",
                "bibmon_notifier.mailcatcher",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.config.smtp_port),
                "--dir",
                str(mail_dir),
            ],
        )

    def start_services(self) -> None:
        """Start every service with its own role, database and port."""
        bindir = Path(sys.executable).parent
        for svc in self.config.services:
            self._spawn(
                svc,
                [
                    str(bindir / f"bibmon-{svc}"),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.config.ports[svc]),
                ],
                env=self.service_env(svc),
            )

    def start_gateway(self) -> None:
        """Render the nginx templates from deploy/ and run nginx unprivileged."""
        c = self.config
        ngx_dir = c.var_dir / f"nginx-{c.gateway_port}"
        for sub in ("log", "tmp"):
            (ngx_dir / sub).mkdir(parents=True, exist_ok=True)
        upstreams = {
            f"{svc.upper()}_UPSTREAM": f"127.0.0.1:{c.ports[svc]}" for svc in (*SERVICES, WEB)
        }
        server_conf = ngx_dir / "bibmon.conf"
        render(
            ROOT / "deploy/nginx/templates/bibmon.conf.template",
            server_conf,
            {
                "GATEWAY_PORT": str(c.gateway_port),
                # Clients connect to this gateway directly: no proxy in front to trust.
                "TRUSTED_PROXY_CIDR": "127.0.0.1/32",
                **gateway_limits(),
                **upstreams,
            },
        )
        main_conf = ngx_dir / "nginx.conf"
        render(
            ROOT / "deploy/nginx/nginx-dev.conf.template",
            main_conf,
            {
                "VAR_DIR": str(ngx_dir),
                "SERVER_CONF": str(server_conf),
                "MIME_TYPES": "/etc/nginx/mime.types",
            },
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        check = subprocess.run(
            [nginx, "-t", "-q", "-e", "stderr", "-c", str(main_conf), "-p", str(ngx_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            raise StackError(f"nginx refused the gateway config: {check.stderr.strip()}")
        self._spawn("gateway", [nginx, "-e", "stderr", "-c", str(main_conf), "-p", str(ngx_dir)])

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Wait until every service answers /health/ready and the gateway answers."""
        deadline = time.monotonic() + timeout
        pending = {
            svc: f"http://127.0.0.1:{self.config.ports[svc]}/health/ready"
            for svc in self.config.services
        }
        if WEB in self.processes:
            pending[WEB] = f"http://127.0.0.1:{self.config.ports[WEB]}/health/ready"
        if "gateway" in self.processes:
            pending["gateway"] = f"{self.config.gateway_url}/api/identity/organisations?limit=1"
        while pending:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                    raise StackError(f"{name} stopped (exit {proc.returncode}); log tail:\n{tail}")
            for name, url in list(pending.items()):
                try:
                    with urllib.request.urlopen(url, timeout=2) as resp:
                        if resp.status == 200:
                            del pending[name]
                except (urllib.error.URLError, OSError):
                    pass
            if time.monotonic() > deadline:
                raise StackError(
                    f"not ready after {timeout:.0f} s: {', '.join(pending)} (see {self.log_dir})"
                )
            time.sleep(0.3)

    def stop_process(self, name: str, timeout: float = 20.0) -> None:
        """Stop one process gracefully (SIGTERM), then firmly."""
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop(self) -> None:
        """Stop the gateway first, then services, then the mail catcher and private PostgreSQL."""
        if self.demo_seeding is not None and self.demo_seeding.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.demo_seeding.pid, signal.SIGTERM)
            self.demo_seeding.wait(10)
        self.demo_seeding = None
        for name in ["gateway", WEB, *reversed(self.config.services), "mailcatcher"]:
            self.stop_process(name)
        self.private_pg.stop()

    def start_demo_seeding(self) -> None:
        """`bibmon-demo seed` alongside the starting services (as the services once seeded
        at start-up): it waits for identity's organisations itself, then writes the demo
        surveys and the closed one's answers through each service's own use cases and
        outbox (empty databases only; a rerun finds them and adds nothing). Identity seeds
        its demo organisations and users itself at start-up."""
        env = {**self.service_env("surveys"), **self.service_env("responses")}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / "demo.log").open("ab") as log:
            self.demo_seeding = subprocess.Popen(
                [str(Path(sys.executable).parent / "bibmon-demo"), "seed"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_for_demo_data(self, timeout: float = 300.0) -> None:
        """Wait until `bibmon-demo seed` has finished; say why when it failed."""
        seeding, self.demo_seeding = self.demo_seeding, None
        if seeding is None:
            return
        try:
            code = seeding.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(seeding.pid, signal.SIGTERM)
            seeding.wait(10)
            code = -1
        if code != 0:
            tail = (self.log_dir / "demo.log").read_text(errors="replace")[-3000:]
            raise StackError(f"the demo data could not be seeded; log tail:\n{tail}")

    def start_processes(self) -> None:
        """Mail catcher (unless disabled), services and gateway; wait until all answer;
        then the demo data (unless disabled)."""
        if self.config.start_mailcatcher:
            self.start_mailcatcher()
        self.start_services()
        if self.config.load_demo_data and {"surveys", "responses"} <= set(self.config.services):
            self.start_demo_seeding()
        self.start_web()
        self.start_gateway()
        self.wait_ready()
        self.wait_for_demo_data()

    def start(self) -> None:
        """Everything, in order."""
        self.check_infrastructure()
        self.prepare_databases()
        self.start_processes()


def _print_welcome(stack: Stack) -> None:
    c = stack.config
    print(
        "\n".join(
            [
                "",
                "Bibliotheekmonitor is running.",
                f"  gateway        {c.gateway_url}",
                f"  web client     {c.gateway_url}/ (log in, questionnaires, FAQ)",
                f"  API docs       {c.gateway_url}/api/identity/docs (and /api/<service>/docs)",
                f"  e-mail         every message is written as .eml to {stack.mail_dir}",
                f"  logs           {stack.log_dir}",
                "  KB admin       username 'admin', password "
                f"{stack.secrets['BIBMON_BOOTSTRAP_ADMIN_PASSWORD']} (enrol TOTP at first login)",
                f"  demo users     password {stack.secrets['BIBMON_DEMO_PASSWORD']}"
                " (GET /api/identity/users as admin lists them)",
                "Press Ctrl-C to stop.",
            ]
        ),
        flush=True,
    )


def _reset(config: StackConfig) -> int:
    """`make reset`: the development databases and var/ go; the next `make run` starts afresh."""
    busy = [
        name
        for name, port in [("gateway", config.gateway_port), *config.ports.items()]
        if port_open("127.0.0.1", port)
    ]
    if busy:
        print(
            f"error: the platform is running ({', '.join(busy)} answer): stop `make run` first",
            file=sys.stderr,
        )
        return 1
    if not port_open(config.pg_host, config.pg_port):
        print(f"error: PostgreSQL does not answer on {config.pg_host}:{config.pg_port}")
        return 1
    stack = Stack.__new__(Stack)  # no secrets are made: reset only removes
    stack.config = config
    removed = stack.reset()
    print("removed: " + ("; ".join(removed) if removed else "nothing (already fresh)"))
    return 0


def main() -> int:
    """`make run` (up) and `make migrate` (migrate)."""
    parser = argparse.ArgumentParser(prog="devstack")
    parser.add_argument("command", choices=["up", "migrate", "databases", "reset"])
    args = parser.parse_args()
    if args.command == "reset":
        return _reset(StackConfig())
    stack = Stack(StackConfig())
    try:
        stack.check_infrastructure()
        stack.check_leftover_databases()
        stack.prepare_databases()
        if args.command == "databases":
            return 0
        if args.command == "migrate":
            for svc in stack.config.services:
                subprocess.run(
                    [str(Path(sys.executable).parent / f"bibmon-{svc}"), "migrate"],
                    env=stack.service_env(svc),
                    check=True,
                )
            return 0
        stop = False

        def on_signal(_signum: int, _frame: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        stack.start_processes()
        _print_welcome(stack)
        while not stop:
            for name, proc in list(stack.processes.items()):
                if proc.poll() is not None:
                    print(
                        f"{name} stopped unexpectedly (exit {proc.returncode});"
                        f" see {stack.log_dir}/{name}.log"
                    )
                    stop = True
            time.sleep(0.5)
        print("Stopping…", flush=True)
        return 0
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(
            f"error: {' '.join(map(str, exc.cmd))} failed with exit {exc.returncode}",
            file=sys.stderr,
        )
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
