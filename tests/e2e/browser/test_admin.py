"""A KB administrator enrols TOTP at the first login and approves an account request."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect
from tests.e2e.browser.conftest import check_page
from tests.e2e.helpers import auth, link_token, text_of, to

pytestmark = pytest.mark.e2e


def test_kb_administrator_enrols_totp_and_approves_an_account_request(
    new_context: Any, platform: Any, admin: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:8]
    email = f"beheerder-{tag}@kb.example"
    password = f"een lange zin voor de beheerder {tag}"
    applicant = f"aanvrager-{tag}@bibliotheek.example"
    with platform.client() as c:
        resp = c.post(
            "/api/identity/users",
            headers=auth(admin["access_token"]),
            json={
                "username": f"beheerder-{tag}",
                "name": f"Beheerder {tag}",
                "email": email,
                "roles": ["kb_admin"],
            },
        )
        assert resp.status_code == 201, resp.text
        token = link_token(platform.wait_for_mail(to(email)))
        resp = c.post(
            "/api/identity/auth/password-reset", json={"token": token, "new_password": password}
        )
        assert resp.status_code == 204, resp.text
        organisation = c.get("/api/identity/organisations", params={"limit": 1}).json()
        resp = c.post(
            "/api/identity/account-requests",
            json={
                "name": f"Aanvrager {tag}",
                "email": applicant,
                "organisation_id": organisation["items"][0]["id"],
                "message": "Ik vul de Wsob-vragenlijst in.",
            },
        )
        assert resp.status_code == 202, resp.text

    browser = new_context()
    page = browser.goto("/inloggen")
    page.get_by_label("Gebruikersnaam").fill(f"beheerder-{tag}")
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    # KB staff must use TOTP: the first login leads to the enrolment.
    expect(page.get_by_role("heading", level=1)).to_have_text("Tweestapsverificatie")
    page.get_by_role("button", name="Tweestapsverificatie instellen").click()
    expect(page.locator(".bm-qr svg")).to_be_visible()
    check_page(browser, "tweestapsverificatie")
    secret = page.locator(".bm-secret").inner_text().strip()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Bevestigen").click()
    expect(page.get_by_role("status")).to_contain_text("Tweestapsverificatie staat aan.")
    assert page.locator(".bm-codes li").count() == 10

    page.get_by_role("link", name="Naar de startpagina").click()
    page.get_by_role("link", name="Accountaanvragen").first.click()
    card = page.get_by_role("listitem").filter(has_text=applicant)
    expect(card).to_contain_text("Ik vul de Wsob-vragenlijst in.")
    check_page(browser, "beheer-aanvragen")
    card.get_by_role("button", name="Goedkeuren").click()
    expect(page.get_by_role("status")).to_contain_text("goedgekeurd")
    expect(page.get_by_role("listitem").filter(has_text=applicant)).to_have_count(0)
    welcome = platform.wait_for_mail(
        lambda m: to(applicant)(m) and bool(re.search(r"#token=", text_of(m)))
    )
    assert "/wachtwoord-instellen#token=" in text_of(welcome)
