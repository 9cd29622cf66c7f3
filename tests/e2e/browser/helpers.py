"""Steps the browser tests share (imported as `tests.e2e.browser.helpers`)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect
from tests.e2e.helpers import auth, items_of, link_token, to

from bibmon_demo.data import DEMO_OPEN_SURVEY_ID

OPEN_SURVEY = str(DEMO_OPEN_SURVEY_ID)


def login(page: Page, base_url: str, username: str, password: str) -> None:
    """Log in through the form, as a person does."""
    page.goto(f"{base_url}/inloggen")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()


def participating_organisations(platform: Any, admin_token: str) -> list[dict[str, Any]]:
    """The organisations that take part in the open demo survey, with their demo user."""
    with platform.client() as c:
        survey = c.get(f"/api/surveys/surveys/{OPEN_SURVEY}", headers=auth(admin_token)).json()
        ids = set(survey["participant_ids"] or [])
        users = items_of(
            c.get("/api/identity/users", params={"limit": 500}, headers=auth(admin_token)).json()
        )
    return [
        {"organisation_id": u["organisation_id"], "username": u["username"], "email": u["email"]}
        for u in users
        if u["organisation_id"] in ids and u["username"].startswith("staff-")
    ]


def new_staff_user(platform: Any, admin_token: str, organisation_id: str) -> dict[str, str]:
    """A second staff member of an organisation, with a password set via the e-mailed link."""
    tag = uuid.uuid4().hex[:8]
    email = f"collega-{tag}@bibliotheek.example"
    password = f"Collega-wachtwoord-{tag}-lang"
    with platform.client() as c:
        resp = c.post(
            "/api/identity/users",
            headers=auth(admin_token),
            json={
                "username": f"collega-{tag}",
                "name": f"Collega {tag}",
                "email": email,
                "roles": ["library_staff"],
                "organisation_id": organisation_id,
            },
        )
        assert resp.status_code == 201, resp.text
        token = link_token(platform.wait_for_mail(to(email)))
        resp = c.post(
            "/api/identity/auth/password-reset", json={"token": token, "new_password": password}
        )
        assert resp.status_code == 204, resp.text
    return {"username": f"collega-{tag}", "password": password, "email": email}


def previous_number(page: Page, key: str) -> str:
    """Last year's figure shown beside a question, as typed (Dutch format), or ''."""
    text = page.locator(f"#vorig-{key}").inner_text()
    match = re.search(r"[\d.,]+", text)
    return match.group(0).rstrip(".,") if match else ""
