"""The fault suite's platform: the real service processes on a private RabbitMQ node and
private PostgreSQL clusters, which the tests stop, crash and cut (docs/reliability.md,
"Fault suite").

Tokens are signed by the test (`bibmon_common.testing.tokens`): surveys and responses
read the test's JWKS from a file, so 1,000 submissions need no 1,000 logins. Identity
still runs for what the other services ask of it (organisations, e-mail recipients).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.faults.harness import (
    ConnectionCutter,
    PrivatePostgres,
    PrivateRabbit,
    http_status,
    metrics,
    port_open,
    wait_for,
)

from bibmon_common.testing.smtp import SMTPCatcher
from bibmon_common.testing.tokens import TestKeys

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("identity", "surveys", "responses", "reporting", "notifier")


def _devstack() -> Any:
    if "devstack" in sys.modules:
        return sys.modules["devstack"]
    spec = importlib.util.spec_from_file_location("devstack", ROOT / "scripts" / "devstack.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["devstack"] = module
    spec.loader.exec_module(module)
    return module


def env_int(name: str, default: int) -> int:
    """A size the soak run (`make fault-soak`) raises; the suite keeps the default."""
    return int(os.environ.get(name, default))


def record_figures(name: str, figures: dict[str, Any]) -> None:
    """Keep a run's figures under `name` in BIBMON_FAULT_RESULTS (`make fault-soak`)."""
    target = os.environ.get("BIBMON_FAULT_RESULTS")
    if not target:
        return
    path = Path(target) if Path(target).is_absolute() else ROOT / target
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=2) + "\n")


class FaultPlatform:
    """What a fault test touches: the processes, their servers, the mailbox, the keys."""

    def __init__(
        self,
        stack: Any,
        rabbit: PrivateRabbit,
        cutter: ConnectionCutter,
        pg_main: PrivatePostgres,
        pg_responses: PrivatePostgres,
        smtp: SMTPCatcher,
        keys: dict[str, TestKeys],
    ) -> None:
        self.stack = stack
        self.rabbit = rabbit
        self.cutter = cutter
        self.pg_main = pg_main
        self.pg_responses = pg_responses
        self.smtp = smtp
        self.keys = keys

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.stack.config.ports[service]}"

    def dsn(self, service: str) -> str:
        return str(self.stack.config.dsn(service))

    def auth(self, service: str, *roles: str, **claims: Any) -> dict[str, str]:
        return self.keys[service].auth(*roles, **claims)

    def ready(self, service: str) -> int:
        return http_status(f"{self.url(service)}/health/ready")

    def metrics(self, service: str) -> dict[str, float]:
        return metrics(f"{self.url(service)}/metrics")

    def pids(self) -> dict[str, int]:
        """Every service process that is still running, by service (a restart changes it)."""
        return {
            svc: proc.pid
            for svc, proc in self.stack.processes.items()
            if svc in SERVICES and proc.poll() is None
        }

    def all_ready(self) -> bool:
        return all(self.ready(svc) == 200 for svc in SERVICES)

    def parked(self) -> dict[str, int]:
        """Messages in every parking queue of the private node."""
        return {q: n for q, n in self.rabbit.queues().items() if q.endswith(".parking")}


@pytest.fixture(scope="session")
def fault_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultPlatform]:
    devstack = _devstack()
    rabbit = PrivateRabbit()
    pg_main = PrivatePostgres("main")
    pg_responses = PrivatePostgres("responses")
    smtp = SMTPCatcher()
    cutter: ConnectionCutter | None = None
    stack: Any = None
    try:
        rabbit.start()
        cutter = ConnectionCutter(rabbit.port)
        pg_main.start()
        pg_responses.start()
        smtp.start()
        var_dir = tmp_path_factory.mktemp("faults")
        os.chmod(var_dir, 0o755)
        keys = {svc: TestKeys(svc) for svc in ("surveys", "responses", "reporting")}
        jwks = {"keys": [k for key in keys.values() for k in key.jwks["keys"]]}
        for n, key in enumerate(keys.values()):  # one kid per key in the shared JWKS
            key.kid = f"fault-key-{n}"
            jwks["keys"][n]["kid"] = key.kid
        jwks_file = var_dir / "jwks.json"
        jwks_file.write_text(json.dumps(jwks))
        token_env = {
            f"BIBMON_{svc.upper()}_{name}": value
            for svc in keys
            for name, value in (
                ("JWKS_URL", f"file://{jwks_file}"),
                ("JWT_ISSUER", next(iter(keys.values())).issuer),
            )
        }
        config = devstack.StackConfig(
            var_dir=var_dir,
            ports={svc: devstack.free_port() for svc in devstack.SERVICES},
            pg_port=pg_main.port,
            responses_pg_port=pg_responses.port,
            responses_pg_dir=pg_responses.data,  # already running: devstack leaves it be
            amqp_url=cutter.url(rabbit.url),
            smtp_port=smtp.port,
            start_mailcatcher=False,
            db_prefix=f"bibmon_faults_{uuid.uuid4().hex[:6]}",
            extra_env={
                "BIBMON_IDENTITY_ARGON2_TIME_COST": "1",
                "BIBMON_IDENTITY_ARGON2_MEMORY_KIB": "8192",
                "BIBMON_IDENTITY_ARGON2_PARALLELISM": "1",
                # Identity seeds the demo organisations and their staff (each one the
                # primary contact who gets the receipts); no demo surveys or answers.
                "BIBMON_SURVEYS_LOAD_DEMO_DATA": "false",
                "BIBMON_RESPONSES_LOAD_DEMO_DATA": "false",
                "BIBMON_NOTIFIER_RETRY_DELAYS_SECONDS": "[0.5, 1, 2]",
                "BIBMON_NOTIFIER_POLL_INTERVAL_SECONDS": "0.2",
                "BIBMON_NOTIFIER_REMINDER_POLL_SECONDS": "5",
                **token_env,
            },
        )
        stack = devstack.Stack(config)
        stack.prepare_databases()
        stack.start_services()
        stack.wait_ready(timeout=180)
        platform = FaultPlatform(stack, rabbit, cutter, pg_main, pg_responses, smtp, keys)
        yield platform
    finally:
        if stack is not None:
            stack.stop()
        smtp.stop()
        if cutter is not None:
            cutter.close()
        rabbit.stop()
        pg_main.remove()
        pg_responses.remove()


@pytest.fixture
def platform(fault_platform: FaultPlatform) -> FaultPlatform:
    """The shared platform, every server up and every service ready before each test."""
    p = fault_platform
    # A test that failed half-way may have left a server stopped.
    if not port_open(p.rabbit.port):
        p.rabbit.start_app()
    for pg in (p.pg_main, p.pg_responses):
        if not port_open(pg.port):
            pg.start()
    wait_for(p.all_ready, within=120, what="every service ready before the test")
    pids = p.pids()
    assert set(pids) == set(SERVICES), f"a service stopped earlier: {sorted(pids)}"
    return p
