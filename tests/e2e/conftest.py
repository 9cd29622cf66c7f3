"""The real platform for journey tests: every service process, nginx, RabbitMQ, PostgreSQL.

The services reach RabbitMQ through a TCP proxy in this process, so a test can "stop the
broker" (refuse and cut every connection) without touching the machine's shared RabbitMQ.
E-mail goes to a real SMTP server on loopback (aiosmtpd).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from tests.e2e.helpers import auth
from tests.e2e.otlp import OTLPReceiver
from tests.security import pii_scan

from bibmon_common.clock import write_clock_offset
from bibmon_common.testing.amqp import TCPProxy, fresh_vhost, with_address
from bibmon_common.testing.smtp import SMTPCatcher

ROOT = Path(__file__).resolve().parents[2]


def _load_devstack() -> Any:
    spec = importlib.util.spec_from_file_location("devstack", ROOT / "scripts" / "devstack.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["devstack"] = module
    spec.loader.exec_module(module)
    return module


devstack = _load_devstack()


class BackgroundLoop:
    """An event loop in a thread, for the proxy and vhost while tests run synchronously."""

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


class BrokerSwitch:
    """Turn 'RabbitMQ' off and on for the services: refuse and cut, then listen again."""

    def __init__(self, bg: BackgroundLoop) -> None:
        self.bg = bg
        self.proxy = TCPProxy("127.0.0.1", 5672)
        bg.run(self.proxy.start())
        self.port = self.proxy.port

    def stop(self) -> None:
        self.bg.run(self.proxy.close())

    def start(self) -> None:
        self.proxy = TCPProxy("127.0.0.1", 5672, port=self.port)
        self.bg.run(self.proxy.start())

    def close(self) -> None:
        self.bg.run(self.proxy.close())


class AdminSetup(dict[str, str]):
    """The bootstrap administrator's TOTP secret and access token, the token kept fresh.

    Access tokens live 10 minutes and the browser tests take longer than that: reading
    `access_token` after 8 minutes renews it first with the refresh token (rotated).
    """

    RENEW_AFTER_S = 480

    def __init__(self, platform: Platform, secret: str, access: str, refresh: str) -> None:
        super().__init__(secret=secret, access_token=access)
        self._platform = platform
        self._refresh = refresh
        self._issued = time.monotonic()

    def __getitem__(self, key: str) -> str:
        if key == "access_token" and time.monotonic() - self._issued > self.RENEW_AFTER_S:
            with self._platform.client() as c:
                resp = c.post("/api/identity/auth/refresh", json={"refresh_token": self._refresh})
            assert resp.status_code == 200, resp.text
            self["access_token"] = resp.json()["access_token"]
            self._refresh = resp.json()["refresh_token"]
            self._issued = time.monotonic()
        return super().__getitem__(key)


class Platform:
    """What a journey test needs: the gateway URL, the SMTP inbox, the broker switch."""

    def __init__(
        self,
        stack: Any,
        smtp: SMTPCatcher,
        broker: BrokerSwitch,
        clock_file: Path,
        traces: OTLPReceiver,
    ) -> None:
        self.stack = stack
        self.traces = traces  # every service's spans (OTLP/HTTP), for trace tests
        self.smtp = smtp
        self.broker = broker
        self.clock_file = clock_file
        # The bootstrap administrator's first login happens once a platform (`admin`).
        self.admin_setup: dict[str, str] | None = None
        self.url = stack.config.gateway_url
        self.admin_password = stack.secrets["BIBMON_BOOTSTRAP_ADMIN_PASSWORD"]
        self.demo_password = stack.secrets["BIBMON_DEMO_PASSWORD"]

    def client(self, source: str = "127.0.0.1") -> httpx.Client:
        """An HTTP client of the gateway, connecting from `source` (any 127.x address).

        The gateway limits /api/identity/auth/ per client address; a journey that logs
        in many people uses its own source address, like people at different libraries.
        """
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=self.url, timeout=30, transport=transport)

    def wait_for_mail(
        self, predicate: Callable[[EmailMessage], bool], timeout: float = 30
    ) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.smtp.messages:
                if predicate(message):
                    return message
            time.sleep(0.1)
        raise AssertionError(
            f"no matching e-mail within {timeout} s ({len(self.smtp.messages)} received)"
        )

    def mails_to(self, address: str) -> list[EmailMessage]:
        return self.smtp.messages_to(address)

    def set_clock(self, offset: timedelta) -> None:
        """Move the clock of surveys, responses and notifier (identity keeps real time)."""
        write_clock_offset(str(self.clock_file), offset)


def _no_personal_data_outside_identity(
    stack: Any, var_dir: Path, capture: pii_scan.BrokerCapture
) -> None:
    """After the journeys: no test user's address, username or name where none may be."""

    async def scan() -> list[pii_scan.Finding]:
        persons = await pii_scan.people(stack.config.dsn("identity"))
        found: list[pii_scan.Finding] = []
        for service in ("surveys", "responses", "reporting"):
            found += await pii_scan.scan_database(stack.config.dsn(service), persons)
        return found

    findings = asyncio.run(scan())
    persons = asyncio.run(pii_scan.people(stack.config.dsn("identity")))
    needles = pii_scan.pattern(persons)
    findings += pii_scan.scan_logs(sorted(var_dir.rglob("*.log")), needles)
    findings += pii_scan.scan_messages(capture.messages, needles)
    assert not findings, f"personal data outside identity: {sorted(set(findings), key=str)}"


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    bg = BackgroundLoop()
    broker = BrokerSwitch(bg)
    vhost_cm = fresh_vhost("bibmon_e2e")
    amqp_url = bg.run(vhost_cm.__aenter__())
    smtp = SMTPCatcher().start()
    traces = OTLPReceiver().start()
    tag = uuid.uuid4().hex[:8]
    var_dir = tmp_path_factory.mktemp("platform")
    os.chmod(var_dir, 0o755)
    clock_file = var_dir / "clock-offset"
    config = devstack.StackConfig(
        var_dir=var_dir,
        gateway_port=devstack.free_port(),
        ports={svc: devstack.free_port() for svc in devstack.SERVICES},
        amqp_url=broker.proxy.url(amqp_url),
        smtp_port=smtp.port,
        start_mailcatcher=False,
        db_prefix=f"bibmon_e2e_{tag}",
        responses_pg_dir=ROOT / "var" / "pg-responses",
        extra_env={
            # Faster clocks for the test run only; production numbers are the defaults.
            "BIBMON_IDENTITY_ARGON2_TIME_COST": "1",
            "BIBMON_IDENTITY_ARGON2_MEMORY_KIB": "8192",
            "BIBMON_IDENTITY_ARGON2_PARALLELISM": "1",
            "BIBMON_NOTIFIER_RETRY_DELAYS_SECONDS": "[0.5, 1, 2]",
            "BIBMON_NOTIFIER_POLL_INTERVAL_SECONDS": "0.2",
            "BIBMON_NOTIFIER_REMINDER_POLL_SECONDS": "0.5",
            "BIBMON_SURVEYS_CLOSE_POLL_SECONDS": "0.5",
            # The survey clock of the services the survey journey moves (identity keeps
            # real time, so tokens and TOTP codes stay valid).
            "BIBMON_SURVEYS_CLOCK_OFFSET_FILE": str(clock_file),
            "BIBMON_RESPONSES_CLOCK_OFFSET_FILE": str(clock_file),
            "BIBMON_NOTIFIER_CLOCK_OFFSET_FILE": str(clock_file),
            # Every service exports its spans to the receiver in this process.
            **{f"BIBMON_{svc.upper()}_OTLP_ENDPOINT": traces.endpoint for svc in devstack.SERVICES},
        },
    )
    stack = devstack.Stack(config)
    try:
        stack.start()
        # Straight to the vhost, not through the switchable proxy: it sees every message.
        with pii_scan.BrokerCapture(with_address(amqp_url, "127.0.0.1", 5672)) as capture:
            yield Platform(stack, smtp, broker, clock_file, traces)
        _no_personal_data_outside_identity(stack, var_dir, capture)
    finally:
        stack.stop()
        stack.drop_databases()
        smtp.stop()
        traces.stop()
        broker.close()
        bg.run(vhost_cm.__aexit__(None, None, None))
        bg.close()


@pytest.fixture(scope="session")
def admin(platform: Platform) -> dict[str, str]:
    """First login of the bootstrap KB administrator (once a session): e-mail address and
    an own password, then TOTP enrolment. The browser tests' fixture may have done it."""
    if platform.admin_setup is not None:
        return platform.admin_setup
    with platform.client() as c:
        resp = c.post(
            "/api/identity/auth/login",
            json={"username": "admin", "password": platform.admin_password},
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body.get("scope") == "account_setup", body
        setup_headers = auth(body["access_token"])
        # Nothing else before the account is set up.
        assert c.get("/api/identity/account-requests", headers=setup_headers).status_code == 403
        own_password = f"eigen beheerderswachtwoord {uuid.uuid4().hex[:8]}"
        resp = c.post(
            "/api/identity/me/account-setup",
            headers=setup_headers,
            json={"email": "beheer@kb.example.nl", "new_password": own_password},
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["scope"] == "mfa_enrolment"
        platform.admin_password = own_password
        enrol_headers = auth(resp.json()["access_token"])
        # A KB administrator may do nothing else before enrolling TOTP.
        assert c.get("/api/identity/account-requests", headers=enrol_headers).status_code == 403
        resp = c.post("/api/identity/me/mfa/totp", headers=enrol_headers)
        assert resp.status_code == 200, resp.text
        secret = resp.json()["secret"]
        assert resp.json()["otpauth_uri"].startswith("otpauth://totp/")
        totp = pyotp.TOTP(secret)
        resp = c.post(
            "/api/identity/me/mfa/totp/confirm", headers=enrol_headers, json={"code": totp.now()}
        )
        assert resp.status_code == 200, resp.text
        assert len(resp.json()["recovery_codes"]) == 10
        tokens = resp.json()
        platform.admin_setup = AdminSetup(
            platform, secret, tokens["access_token"], tokens["refresh_token"]
        )
        return platform.admin_setup
