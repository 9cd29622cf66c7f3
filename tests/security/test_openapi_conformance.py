"""schemathesis over every service's OpenAPI document: no 5xx, every answer as documented.

Each service runs for real (uvicorn, a fresh database, no broker) and is called as a KB
administrator, the caller who reaches the most code. The number of examples per
operation is bounded (SCHEMATHESIS_MAX_EXAMPLES, default 15) to keep `make test` fast.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.security.served import served
from tests.security.services import SERVICES

from bibmon_common.testing.tokens import TestKeys

pytestmark = pytest.mark.integration

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize("service", SERVICES)
def test_every_answer_matches_the_openapi_document(service: str) -> None:
    keys = TestKeys(service)
    headers = keys.auth("kb_admin")
    failures: list[str] = []
    with served(service, keys) as base_url:
        schema = schemathesis.openapi.from_url(f"{base_url}/api/{service}/openapi.json")
        for result in schema.get_all_operations():
            operation = result.ok()
            if not operation.path.startswith("/api/"):
                continue

            @hypothesis.settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(hypothesis.HealthCheck),
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            )
            @hypothesis.given(case=operation.as_strategy())
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

            try:
                check()
            except Exception as exc:  # collect every operation's failure, then report
                failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
