"""Issue 10 item 10: no authenticated answer of any service may be stored by a cache."""

from __future__ import annotations

import uuid

from tests.e2e.helpers import auth

SOME_ID = uuid.uuid4()
# One request with credentials per service; a 404 for an unknown id is an answer too.
# (Reporting has only public routes so far: a logged-in browser sends its token anyway.)
AUTHENTICATED = [
    "/api/identity/me",
    "/api/surveys/surveys",
    f"/api/responses/surveys/{SOME_ID}/response",
    "/api/reporting/organisations",
    "/api/notifier/emails",
]


def test_every_service_marks_authenticated_answers_no_store(platform, admin):
    with platform.client() as c:
        for path in AUTHENTICATED:
            answer = c.get(path, headers=auth(admin["access_token"]))
            assert answer.status_code < 500, (path, answer.text)
            assert answer.headers.get("cache-control") == "no-store", path
            refused = c.get(path, headers=auth("not.a.token"))
            assert refused.status_code < 500, (path, refused.text)
            assert refused.headers.get("cache-control") == "no-store", path
        # the public JWKS may still be cached by anyone
        jwks = c.get("/api/identity/.well-known/jwks.json")
        assert jwks.headers.get("cache-control") == "public, max-age=300"
