"""From the account request form to the first login, reading the e-mails; the TOTP step."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect
from tests.e2e.browser.conftest import check_page
from tests.e2e.helpers import auth, items_of, text_of, to

pytestmark = pytest.mark.e2e

LINK_RE = re.compile(r"https?://\S+/wachtwoord-instellen#token=[A-Za-z0-9_\-]+")


def test_account_journey_from_request_form_to_first_login(
    new_context: Any, platform: Any, admin: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:8]
    name = f"Nieuwe Medewerker {tag}"
    email = f"nieuw-{tag}@bibliotheek.example"
    username = f"nieuw-{tag}"
    password = f"een lange zin als wachtwoord {tag}"
    with platform.client() as c:
        organisations = c.get("/api/identity/organisations", params={"limit": 500}).json()
    library = next(o for o in organisations["items"] if len(o["name"].split()) >= 2)
    browser = new_context()
    page = browser.goto("/account-aanvragen")
    page.get_by_label("Uw naam").fill(name)
    page.get_by_label("E-mailadres").fill(email)
    # Part of the name is enough: the server offers the libraries that match.
    page.get_by_label("Bibliotheek", exact=True).fill(library["name"].split()[-1].lower())
    page.get_by_role("button", name="Aanvraag versturen").click()
    expect(page.locator("#foutoverzicht")).to_contain_text("Kies uw bibliotheek hieronder.")
    check_page(browser, "account-aanvragen-kies-bibliotheek")
    page.get_by_role("group", name="Bedoelt u een van deze bibliotheken?").get_by_label(
        f"{library['name']} ({library['province']})"
    ).check()
    page.get_by_role("button", name="Aanvraag versturen").click()
    expect(page.get_by_role("status")).to_contain_text(f"Uw aanvraag voor {library['name']}")
    received = platform.wait_for_mail(to(email))
    assert library["name"] in text_of(received)

    # The KB administrator approves (the admin pages come later; the API does it now).
    with platform.client() as c:
        requests = items_of(
            c.get(
                "/api/identity/account-requests",
                params={"limit": 500},
                headers=auth(admin["access_token"]),
            ).json()
        )
        request = next(r for r in requests if r["email"] == email)
        assert request["organisation_id"] == library["id"]
        resp = c.post(
            f"/api/identity/account-requests/{request['id']}/approve",
            headers=auth(admin["access_token"]),
            json={"username": username},
        )
        assert resp.status_code == 201, resp.text

    mail = platform.wait_for_mail(lambda m: to(email)(m) and bool(LINK_RE.search(text_of(m))))
    match = LINK_RE.search(text_of(mail))
    assert match
    assert match.group(0).startswith(platform.url)
    page.goto(match.group(0))
    # The small script took the token from the fragment and cleared the address bar.
    expect(page.get_by_label("Link uit de e-mail")).to_be_hidden()
    expect(page).to_have_url(f"{platform.url}/wachtwoord-instellen")
    check_page(browser, "wachtwoord-instellen")
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(password)
    page.get_by_label("Herhaal het nieuwe wachtwoord").fill(password)
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("Uw wachtwoord is ingesteld")

    page.get_by_role("link", name="Naar inloggen").click()
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welkom, {name}")
    # The session lives in HttpOnly, SameSite=Strict cookies, never in page storage.
    cookies = {c["name"]: c for c in browser.context.cookies()}
    assert cookies["bibmon_access"]["httpOnly"] is True
    assert cookies["bibmon_access"]["sameSite"] == "Strict"
    assert page.evaluate("window.localStorage.length") == 0
    stored = page.evaluate("JSON.stringify(Object.entries(window.sessionStorage))")
    for value in (cookies["bibmon_access"]["value"], cookies["bibmon_refresh"]["value"]):
        assert value not in stored

    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("status")).to_contain_text("U bent uitgelogd.")
    browser.goto("/vragenlijsten")
    expect(page).to_have_url(re.compile(r"/inloggen\?terug=%2Fvragenlijsten$"))


def test_kb_administrator_logs_in_with_the_totp_step(
    new_context: Any, platform: Any, admin: dict[str, str]
) -> None:
    totp = pyotp.TOTP(admin["secret"])
    browser = new_context()
    page = browser.goto("/inloggen")
    page.get_by_label("Gebruikersnaam").fill("admin")
    page.get_by_label("Wachtwoord").fill(platform.admin_password)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Code uit uw authenticator-app")
    check_page(browser, "inloggen-code")
    page.get_by_label("Code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Inloggen").click()
    expect(page.locator("#code-fout")).to_contain_text("Deze code klopt niet")
    # A code is good once: wait for a fresh one if enrolment just used the current one.
    time.sleep(30 - time.time() % 30 + 1)
    page.get_by_label("Code").fill(totp.now())
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, KB-beheerder")
    check_page(browser)
