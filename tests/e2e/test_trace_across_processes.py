"""One trace from the gateway through responses and RabbitMQ to the notifier (issue 11).

The client starts the trace (W3C traceparent); nginx passes it on and logs it; responses
continues it in its request span and writes it into the outbox row with the event; the
relay publishes it in the AMQP headers; the notifier's consumer continues it. Every
service exports its spans over OTLP/HTTP to a receiver in the test process.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from tests.e2e.helpers import auth, items_of

from bibmon_demo.data import DEMO_OPEN_SURVEY_ID, DEMO_OPEN_YEAR, demo_answers

pytestmark = pytest.mark.e2e

SPAN_KIND_SERVER = 2
SPAN_KIND_CONSUMER = 5


def ok(resp: Any, *codes: int) -> Any:
    assert resp.status_code in (codes or (200,)), f"{resp.status_code} {resp.text}"
    return resp.json() if resp.content else None


def gateway_log_lines(platform: Any, trace_id: str) -> list[dict[str, Any]]:
    log = Path(platform.stack.config.var_dir) / f"nginx-{platform.stack.config.gateway_port}"
    lines = (log / "access.log").read_text().splitlines()
    return [json.loads(line) for line in lines if trace_id in line]


@pytest.mark.timeout(180)
def test_one_trace_spans_gateway_responses_broker_and_notifier(platform, admin):
    with platform.client(source="127.0.0.81") as c:
        orgs = items_of(ok(c.get("/api/identity/organisations", params={"limit": 200})))
        org = orgs[101]  # a library no other journey submits for
        users = items_of(
            ok(
                c.get(
                    "/api/identity/users",
                    params={"organisation_id": org["id"], "role": "library_staff"},
                    headers=auth(admin["access_token"]),
                )
            )
        )
        staff = next(u for u in users if u["username"].startswith("staff-"))
        token = ok(
            c.post(
                "/api/identity/auth/login",
                json={"username": staff["username"], "password": platform.demo_password},
            )
        )["access_token"]
        url = f"/api/responses/surveys/{DEMO_OPEN_SURVEY_ID}/response"
        # At a fresh start responses may still be learning the demo survey from its event.
        deadline = time.monotonic() + 60
        while (got := c.get(url, headers=auth(token))).status_code == 404:
            assert time.monotonic() < deadline, got.text
            time.sleep(0.5)
        state = ok(got)
        state = ok(
            c.put(
                url,
                json={
                    "answers": demo_answers(org["id"], DEMO_OPEN_YEAR),
                    "version": state["version"],
                },
                headers=auth(token),
            )
        )

        trace_id = secrets.token_hex(16)
        client_span = secrets.token_hex(8)
        traced = {"traceparent": f"00-{trace_id}-{client_span}-01", **auth(token)}
        # Our traceparent, not one of this process: services' in-process tests may have
        # instrumented httpx globally (bibmon_common.telemetry), which would replace it.
        with suppress_instrumentation():
            resp = c.post(f"{url}/submit", json={}, headers=traced)
            if resp.status_code == 422:  # plausibility warnings want an explanation each
                fields = {e["field"].split(".")[-1] for e in resp.json().get("errors", [])}
                explanations = {
                    f: "Klopt: de vestiging was een deel van het jaar dicht." for f in fields
                }
                resp = c.post(f"{url}/submit", json={"explanations": explanations}, headers=traced)
        assert ok(resp)["status"] == "submitted"

    # The gateway passed the client's trace on (and logged it with the request).
    def submit_logged() -> bool:
        logged = gateway_log_lines(platform, trace_id)
        return any(line["path"] == f"{url}/submit" and line["status"] == 200 for line in logged)

    deadline = time.monotonic() + 5
    while not submit_logged() and time.monotonic() < deadline:
        time.sleep(0.2)
    log = Path(platform.stack.config.var_dir) / f"nginx-{platform.stack.config.gateway_port}"
    tail = (log / "access.log").read_text().splitlines()[-3:]
    assert submit_logged(), (gateway_log_lines(platform, trace_id), tail)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        spans = platform.traces.trace(trace_id)
        consumed = [
            s for s in spans if s.service == "bibmon-notifier" and s.kind == SPAN_KIND_CONSUMER
        ]
        # responses' request span is the child of the client's span, through the gateway.
        server = [
            s
            for s in spans
            if s.service == "bibmon-responses"
            and s.kind == SPAN_KIND_SERVER
            and s.parent_span_id == client_span
        ]
        # Each process exports its spans in its own batches: wait for both sides.
        if consumed and server:
            break
        time.sleep(0.5)
    else:
        services = sorted({s.service for s in platform.traces.trace(trace_id)})
        raise AssertionError(
            f"trace {trace_id}: notifier consumer {bool(consumed)}, responses server "
            f"{bool(server)}; spans from {services}"
        )

    assert server, [(s.service, s.name) for s in spans]
    # The notifier's consumer span belongs to the same trace and continues a span of
    # responses (the request that wrote the event), carried through RabbitMQ.
    responses_span_ids = {s.span_id for s in spans if s.service == "bibmon-responses"}
    assert any(s.parent_span_id in responses_span_ids for s in consumed), consumed
    assert {"bibmon-responses", "bibmon-notifier"} <= {s.service for s in spans}
