"""Ending a session ends its access tokens in every service at once, not 10 minutes later.

Part of the security suite (docs/security-suite.md); it lives here to share the one
platform the journey tests start.
"""

from __future__ import annotations

import time

import httpx
from tests.e2e.helpers import auth, items_of

from bibmon_demo.data import DEMO_CLOSED_SURVEY_ID

SESSION_ENDED = "https://bibliotheekmonitor.nl/problems/session-ended"


def _probes(survey_id: str) -> dict[str, str]:
    """A GET per service that a library's staff member may call."""
    return {
        "identity": "/api/identity/me",
        "surveys": "/api/surveys/surveys",
        "responses": f"/api/responses/surveys/{survey_id}/response",
    }


def _refused_everywhere(
    c: httpx.Client, token: str, probes: dict[str, str], within: float = 10.0
) -> dict[str, int]:
    """Poll until every probe answers 401 session-ended; return the last statuses."""
    deadline = time.monotonic() + within
    statuses: dict[str, int] = {}
    while True:
        statuses = {}
        for service, path in probes.items():
            resp = c.get(path, headers=auth(token))
            ended = resp.status_code == 401 and resp.json().get("type") == SESSION_ENDED
            statuses[service] = 0 if ended else resp.status_code
        if not any(statuses.values()) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.1)


def _staff(c: httpx.Client, admin_token: str, index: int) -> dict[str, str]:
    orgs = items_of(c.get("/api/identity/organisations", params={"limit": 100}).json())
    organisation_id = orgs[index]["id"]
    users = items_of(
        c.get(
            "/api/identity/users",
            params={"organisation_id": organisation_id, "role": "library_staff"},
            headers=auth(admin_token),
        ).json()
    )
    return next(u for u in users if u["username"].startswith("staff-"))


def _login(c: httpx.Client, username: str, password: str) -> dict[str, str]:
    resp = c.post("/api/identity/auth/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _accepted_everywhere(c: httpx.Client, token: str, probes: dict[str, str]) -> None:
    for service, path in probes.items():
        resp = c.get(path, headers=auth(token))
        assert resp.status_code != 401, (service, resp.text)


def test_logout_ends_the_access_token_in_identity_surveys_and_responses(platform, admin):
    probes = _probes(str(DEMO_CLOSED_SURVEY_ID))
    with platform.client(source="127.0.0.41") as c:
        staff = _staff(c, admin["access_token"], 60)
        tokens = _login(c, staff["username"], platform.demo_password)
        other = _login(c, staff["username"], platform.demo_password)  # a second session
        _accepted_everywhere(c, tokens["access_token"], probes)

        resp = c.post("/api/identity/auth/logout", json={"refresh_token": tokens["refresh_token"]})
        assert resp.status_code == 204, resp.text
        # identity refuses at once (same transaction); the others as soon as the event lands.
        me = c.get("/api/identity/me", headers=auth(tokens["access_token"]))
        assert me.status_code == 401
        assert me.json()["type"] == SESSION_ENDED
        assert _refused_everywhere(c, tokens["access_token"], probes) == dict.fromkeys(probes, 0)
        # Only that session: the same person's other login goes on.
        _accepted_everywhere(c, other["access_token"], probes)


def test_disabling_an_account_ends_its_access_tokens_everywhere(platform, admin):
    probes = _probes(str(DEMO_CLOSED_SURVEY_ID))
    admin_headers = auth(admin["access_token"])
    with platform.client(source="127.0.0.42") as c:
        staff = _staff(c, admin["access_token"], 61)
        tokens = _login(c, staff["username"], platform.demo_password)
        _accepted_everywhere(c, tokens["access_token"], probes)

        def patch(disabled: bool) -> httpx.Response:
            return c.patch(
                f"/api/identity/users/{staff['id']}",
                json={"disabled": disabled},
                headers=admin_headers,
            )

        assert patch(True).status_code == 200
        try:
            statuses = _refused_everywhere(c, tokens["access_token"], probes)
            assert statuses == dict.fromkeys(probes, 0)
        finally:
            assert patch(False).status_code == 200


def test_a_role_change_ends_the_access_tokens_everywhere(platform, admin):
    probes = _probes(str(DEMO_CLOSED_SURVEY_ID))
    with platform.client(source="127.0.0.43") as c:
        staff = _staff(c, admin["access_token"], 62)
        tokens = _login(c, staff["username"], platform.demo_password)
        _accepted_everywhere(c, tokens["access_token"], probes)
        # The same role again still counts as a change of roles: sessions end.
        resp = c.patch(
            f"/api/identity/users/{staff['id']}",
            json={"roles": ["library_staff"]},
            headers=auth(admin["access_token"]),
        )
        assert resp.status_code == 200, resp.text
        statuses = _refused_everywhere(c, tokens["access_token"], probes)
        assert statuses == dict.fromkeys(probes, 0)
