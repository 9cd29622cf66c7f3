"""Every operation of every service's OpenAPI document, called as each kind of caller.

The expected status of each cell is in authorisation_matrix.yaml; an operation without
an entry (a new endpoint) fails the suite, as does an entry for an operation that is gone.
Callers: anonymous, library staff of the organisation named in the path, staff of another
organisation, a researcher, a KB administrator, and a token that only allows enrolling
TOTP (scope `mfa_enrolment`). Responses knows one open survey with the own organisation
as its only participant, so its cells tell own from other organisation on real data;
other ids in paths are unknown (an allowed caller gets 404, never someone else's data);
bodies are empty objects (so an allowed caller gets 422: authorisation comes first).

    BIBMON_WRITE_AUTHZ_MATRIX=1 uv run pytest tests/security/test_authorisation_matrix.py
writes the observed matrix (then review every changed cell before committing it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml
from tests.security.services import SERVICES, RunningService, running

from bibmon_common.contracts.surveys import SurveyPublished
from bibmon_common.events import to_envelope
from bibmon_demo.data import DEMO_QUESTIONNAIRE
from bibmon_responses.consumers import on_survey_published

pytestmark = pytest.mark.integration

MATRIX = Path(__file__).with_name("authorisation_matrix.yaml")
METHODS = ("get", "post", "put", "patch", "delete")
ORG_A = uuid.UUID("0a000000-0000-4000-8000-00000000000a")
ORG_B = uuid.UUID("0b000000-0000-4000-8000-00000000000b")
STAFF = uuid.UUID("5a000000-0000-4000-8000-000000000001")
UNKNOWN = uuid.UUID("99999999-0000-4000-8000-000000000099")
SURVEY = uuid.UUID("5e000000-0000-4000-8000-00000000005e")
CALLERS = (
    "anonymous",
    "staff_own_org",
    "staff_other_org",
    "researcher",
    "kb_admin",
    "mfa_enrolment",
)


def _headers(service: RunningService, caller: str) -> dict[str, str]:
    keys = service.keys
    if caller == "anonymous":
        return {}
    if caller == "staff_own_org":
        return keys.auth("library_staff", organisation_id=ORG_A, user_id=STAFF, amr=("pwd",))
    if caller == "staff_other_org":
        return keys.auth("library_staff", organisation_id=ORG_B, amr=("pwd",))
    if caller == "researcher":
        return keys.auth("researcher")
    if caller == "kb_admin":
        return keys.auth("kb_admin")
    assert caller == "mfa_enrolment"
    return keys.auth("kb_admin", scope="mfa_enrolment", amr=("pwd",))


def _value(name: str, schema: dict[str, Any]) -> str:
    if name == "organisation_id":
        return str(ORG_A)
    if name == "user_id":
        return str(STAFF)
    if name == "survey_id":
        return str(SURVEY)
    kind = schema.get("type")
    if kind == "integer":
        return str(schema.get("minimum", 2025))
    if "enum" in schema:
        return str(schema["enum"][0])
    if (
        kind == "string"
        and schema.get("format") != "uuid"
        and "uuid" not in name
        and "_id" not in name
    ):
        return "x"
    return str(UNKNOWN)


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) of every operation in an OpenAPI document."""
    out = []
    for path, item in spec.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue  # health probes: not routed by the gateway
        for method in METHODS:
            if method in item:
                out.append((method.upper(), path, item[method]))
    return sorted(out, key=lambda o: (o[1], o[0]))


async def observe(service: RunningService) -> dict[str, dict[str, int]]:
    """The status each caller gets for each operation."""
    matrix: dict[str, dict[str, int]] = {}
    for method, path, op in operations(service.openapi()):
        url = path
        query: dict[str, str] = {}
        for param in op.get("parameters", []):
            value = _value(param["name"], param.get("schema", {}))
            if param["in"] == "path":
                url = url.replace("{" + param["name"] + "}", value)
            elif param["in"] == "query" and param.get("required"):
                query[param["name"]] = value
        row = {}
        for caller in CALLERS:
            kwargs: dict[str, Any] = {"headers": _headers(service, caller), "params": query}
            if "requestBody" in op:
                kwargs["json"] = {}
            resp = await service.client.request(method, url, **kwargs)
            row[caller] = resp.status_code
        matrix[f"{method} {path}"] = row
    return matrix


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def observed() -> AsyncIterator[dict[str, dict[str, dict[str, int]]]]:
    result: dict[str, dict[str, dict[str, int]]] = {}
    for name in SERVICES:
        async with running(name) as service:
            if name == "responses":
                await _survey_of_the_own_organisation(service)
            result[name] = await observe(service)
    if os.environ.get("BIBMON_WRITE_AUTHZ_MATRIX"):
        old = _expected() if MATRIX.exists() else {}
        merged: dict[str, Any] = {}
        for service, ops in result.items():
            merged[service] = {}
            for op, row in ops.items():
                public = old.get(service, {}).get(op, {}).get("public")
                merged[service][op] = {**row, **({"public": True} if public else {})}
        MATRIX.write_text(
            "# Expected status per operation and caller; see test_authorisation_matrix.py.\n"
            "# `public: true` marks the operations anonymous callers may use.\n"
            + yaml.safe_dump(merged, sort_keys=True, width=120),
            encoding="utf-8",
        )
    yield result


async def _survey_of_the_own_organisation(service: RunningService) -> None:
    """An open survey in responses whose only participant is ORG_A (as surveys publishes)."""
    now = datetime.now(UTC)
    message = SurveyPublished(
        survey_id=SURVEY,
        title="Matrix",
        mandatory=False,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        participants=(ORG_A,),
        questionnaire_version=1,
        questionnaire=DEMO_QUESTIONNAIRE,
    )
    envelope = to_envelope(message, source="surveys")
    deps = service.app.state.ctx.deps
    async with deps.transaction() as conn:
        await on_survey_published(deps, conn, message, envelope)


def _expected() -> dict[str, Any]:
    return dict(yaml.safe_load(MATRIX.read_text(encoding="utf-8")) or {})


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("service", SERVICES)
async def test_every_operation_has_an_entry_and_answers_as_written(
    observed: dict[str, dict[str, dict[str, int]]], service: str
) -> None:
    expected = _expected().get(service, {})
    actual = observed[service]
    missing = sorted(set(actual) - set(expected))
    assert not missing, f"operations without an entry in {MATRIX.name}: {missing}"
    stale = sorted(set(expected) - set(actual))
    assert not stale, f"entries for operations that no longer exist: {stale}"
    differences = {
        op: {
            c: (expected[op].get(c), actual[op][c])
            for c in CALLERS
            if expected[op].get(c) != actual[op][c]
        }
        for op in actual
    }
    differences = {op: d for op, d in differences.items() if d}
    assert not differences, f"(expected, actual) per caller: {differences}"
    for op, row in actual.items():
        assert all(status < 500 for status in row.values()), (op, row)


@pytest.mark.asyncio(loop_scope="session")
async def test_nothing_but_public_operations_answers_an_anonymous_caller(
    observed: dict[str, dict[str, dict[str, int]]],
) -> None:
    """A guard on the table itself: an anonymous 2xx only where the table says public."""
    public = {
        (service, op)
        for service, ops in _expected().items()
        for op, row in ops.items()
        if row.get("public")
    }
    for service, ops in observed.items():
        for op, row in ops.items():
            if 200 <= row["anonymous"] < 300:
                assert (service, op) in public, f"{service} {op} answers anonymous callers"
