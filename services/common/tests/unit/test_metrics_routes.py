"""The route label of the HTTP metrics: a template, never a path with ids."""

from __future__ import annotations

from types import SimpleNamespace

from bibmon_common.metrics import route_template


def test_fastapi_effective_route_gives_the_full_template():
    effective = SimpleNamespace(path_format="/api/responses/surveys/{survey_id}/response")
    scope = {
        "path": "/api/responses/surveys/1/response",
        "fastapi": {"effective_route_context": effective},
    }
    assert route_template(scope) == "/api/responses/surveys/{survey_id}/response"


def test_route_relative_to_its_router_gets_the_request_paths_prefix():
    scope = {
        "path": "/api/surveys/surveys/42/publish",
        "route": SimpleNamespace(path="/surveys/{id}/publish"),
    }
    assert route_template(scope) == "/api/surveys/surveys/{id}/publish"


def test_no_route_is_unmatched_whatever_the_path():
    assert route_template({"path": "/wp-admin/setup.php"}) == "unmatched"


def test_a_path_parameter_that_spans_segments_keeps_the_relative_template():
    scope = {"path": "/files/a/b/c", "route": SimpleNamespace(path="/files/{rest:path}")}
    assert route_template(scope) == "/files/{rest:path}"
