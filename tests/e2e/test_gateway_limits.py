"""The gateway's per-address limits let an office of staff behind one address work, and
still stop a runaway client and a password guesser (issue 11, "Speed").

A real nginx renders deploy/nginx/templates/bibmon.conf.template as `make run` does, in
front of stand-in upstreams that answer 200; every request comes from 127.0.0.1, as an
office's do from its one NAT address.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
OFFICE = 50  # people behind one address
SERVICES = ("IDENTITY", "SURVEYS", "RESPONSES", "REPORTING", "NOTIFIER", "WEB")


def _render_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nginx_render", ROOT / "deploy/nginx/render.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RENDER = _render_module()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def gateway(tmp: Path, **limits: str) -> Iterator[str]:
    """nginx with the given limits (the rest at their defaults); yields its base URL."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed (make install installs it)")
    upstream_port, port = _free_port(), _free_port()
    ngx = tmp / f"nginx-{port}"
    ngx.mkdir()
    server_conf = ngx / "bibmon.conf"
    server_conf.write_text(
        RENDER.render(
            (ROOT / "deploy/nginx/templates/bibmon.conf.template").read_text(),
            {
                "GATEWAY_PORT": str(port),
                "TRUSTED_PROXY_CIDR": "127.0.0.1/32",
                **{f"{s}_UPSTREAM": f"127.0.0.1:{upstream_port}" for s in SERVICES},
                **RENDER.LIMIT_DEFAULTS,
                **limits,
            },
        )
    )
    # Every service is a second server of the same nginx answering 200 at once: the test
    # is about the limits, and a Python stand-in would be slower than the gateway.
    both = ngx / "both.conf"
    both.write_text(
        f"include {server_conf};\n"
        f"server {{ listen 127.0.0.1:{upstream_port}; access_log off;"
        " location / { default_type application/json; return 200 '{}'; } }\n"
    )
    main_conf = ngx / "nginx.conf"
    main_conf.write_text(
        RENDER.render(
            (ROOT / "deploy/nginx/nginx-dev.conf.template").read_text(),
            {"VAR_DIR": str(ngx), "SERVER_CONF": str(both), "MIME_TYPES": "/etc/nginx/mime.types"},
        )
    )
    # nginx logs every refusal on stderr: to a file, as a pipe nobody reads would fill up.
    errors = (ngx / "error.log").open("wb")
    proc = subprocess.Popen(
        [nginx, "-e", "stderr", "-p", str(ngx), "-c", str(main_conf)], stderr=errors
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/gateway/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (ngx / "error.log").read_text()
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        errors.close()


async def _send(base: str, requests: list[tuple[str, str]]) -> list[int]:
    """Send `requests` one after the other on one kept-alive connection; their statuses."""
    url = httpx.URL(base)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    statuses = []
    try:
        for method, path in requests:
            writer.write(
                f"{method} {path} HTTP/1.1\r\nHost: gateway\r\nContent-Length: 0\r\n\r\n".encode()
            )
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            statuses.append(int(head[0].split()[1]))
            length = next(
                (h.split(":", 1)[1] for h in head if h.lower().startswith("content-length:")), "0"
            )
            await reader.readexactly(int(length))
        return statuses
    finally:
        writer.close()


async def _at_once(base: str, requests: list[tuple[str, str]], connections: int) -> list[int]:
    # A fast client (raw HTTP/1.1 on loopback): with a slow one the limits would refill
    # while it sends, and "at once" would not be.
    share = [requests[i::connections] for i in range(connections)]
    answers = await asyncio.wait_for(
        asyncio.gather(*(_send(base, part) for part in share if part)), 60
    )
    return [status for part in answers for status in part]


def _statuses(base: str, requests: list[tuple[str, str]], connections: int = OFFICE) -> list[int]:
    """Send every (method, path) at once, as many people at the same moment would."""
    return asyncio.run(_at_once(base, requests, connections))


def _page(person: int) -> list[tuple[str, str]]:
    """What opening one page of the questionnaire asks: the page, its static files and
    the API calls behind it (about 10 requests)."""
    return [
        ("GET", f"/vragenlijsten/{person}"),
        ("GET", "/static/app.css"),
        ("GET", "/static/htmx.min.js"),
        ("GET", "/static/nlds.css"),
        ("GET", "/static/logo.svg"),
        ("GET", "/api/identity/me"),
        ("GET", "/api/surveys/surveys"),
        ("GET", f"/api/responses/surveys/{person}/response"),
        ("GET", "/api/reporting/figures"),
        ("GET", "/api/notifier/preferences"),
    ]


def _login() -> list[tuple[str, str]]:
    """One login: the page, the password, the second factor."""
    return [
        ("GET", "/inloggen"),
        ("POST", "/api/identity/auth/login"),
        ("POST", "/api/identity/auth/mfa"),
    ]


def test_an_office_of_fifty_logs_in_at_once_and_a_guesser_is_stopped_after(tmp_path):
    with gateway(tmp_path) as base:
        logins = [r for _ in range(OFFICE) for r in _login()]
        assert _statuses(base, logins) == [200] * len(logins)
        # The same address guessing on: the coarse auth limit answers 429 soon, identity's
        # own counters per account and address stand behind it.
        guesses = _statuses(base, [("POST", "/api/identity/auth/login")] * 30)
        assert 429 in guesses


def test_an_office_of_fifty_opens_pages_together_and_autosaves_without_refusals(tmp_path):
    with gateway(tmp_path) as base:
        pages = [r for person in range(OFFICE) for r in _page(person)]
        assert _statuses(base, pages) == [200] * len(pages)
        # Then, after a moment's reading and typing, everyone autosaves once a second.
        time.sleep(2)
        for _ in range(3):
            saves = [("PUT", f"/api/responses/surveys/{p}/response") for p in range(OFFICE)]
            assert _statuses(base, saves) == [200] * OFFICE
            time.sleep(1)


def test_a_runaway_client_is_refused_beyond_the_burst(tmp_path):
    with gateway(tmp_path) as base:
        statuses = _statuses(base, [("GET", "/api/surveys/surveys")] * 1500)
        assert 429 in statuses
        assert statuses.count(200) >= 1 + int(RENDER.LIMIT_DEFAULTS["API_BURST"])


def test_the_limits_are_set_by_the_environment_of_the_renderer(tmp_path):
    with gateway(tmp_path, API_RATE_LIMIT="1r/m", API_BURST="5") as base:
        statuses = _statuses(base, [("GET", "/api/surveys/surveys")] * 12, 1)
        # one at the rate, five more as the burst; the rest refused
        assert statuses == [200] * 6 + [429] * 6
        answer = httpx.get(f"{base}/api/surveys/surveys")
        assert answer.status_code == 429
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert int(answer.headers["retry-after"]) > 0
