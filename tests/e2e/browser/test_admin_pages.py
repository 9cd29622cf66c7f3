"""A KB administrator manages users and organisations and sends a bounced e-mail again.

The administrator here is one of our own (created with the bootstrap administrator's
token, TOTP enrolled through the API), so its TOTP steps are used by this module only.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect
from tests.e2e.browser.conftest import Checked, check_page
from tests.e2e.helpers import auth, link_token, text_of, to

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]

FOCUSED = (
    "(() => { const e = document.activeElement; return (e.id || e.textContent || '').trim(); })()"
)


@pytest.fixture(scope="module")
def kb_admin(platform: Any, admin: dict[str, str]) -> dict[str, Any]:
    """A second KB administrator with a password and TOTP (the step last used is kept)."""
    tag = uuid.uuid4().hex[:8]
    email = f"beheer-{tag}@kb.example"
    password = f"een lange zin voor het beheer {tag}"
    with platform.client() as c:
        resp = c.post(
            "/api/identity/users",
            headers=auth(admin["access_token"]),
            json={
                "username": f"beheer-{tag}",
                "name": f"Beheer {tag}",
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
        resp = c.post(
            "/api/identity/auth/login", json={"username": f"beheer-{tag}", "password": password}
        )
        assert resp.status_code == 200, resp.text
        enrol = auth(resp.json()["access_token"])
        secret = c.post("/api/identity/me/mfa/totp", headers=enrol).json()["secret"]
        step = int(time.time() // 30)
        resp = c.post(
            "/api/identity/me/mfa/totp/confirm",
            headers=enrol,
            json={"code": pyotp.TOTP(secret).at(step * 30)},
        )
        assert resp.status_code == 200, resp.text
    return {"username": f"beheer-{tag}", "password": password, "secret": secret, "step": step}


def log_in(checked: Checked, who: dict[str, Any]) -> Page:
    """Log in through the forms, with a TOTP step never used before (a code is good once)."""
    page = checked.goto("/inloggen")
    page.get_by_label("Gebruikersnaam").fill(who["username"])
    page.get_by_label("Wachtwoord").fill(who["password"])
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Code uit uw authenticator-app")
    now = int(time.time() // 30)
    step = max(now, who["step"] + 1)
    if step > now + 1:  # identity accepts the next step too; wait for anything later
        time.sleep((step - 1) * 30 - time.time() + 0.5)
    who["step"] = step
    page.get_by_label("Code").fill(pyotp.TOTP(who["secret"]).at(step * 30))
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()
    return page


def tab_to(page: Page, target: str, limit: int = 80) -> None:
    """Press Tab until the element with this id (or text) has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED) == target:
            return
    raise AssertionError(f"Tab never reached {target!r}")


def test_kb_administrator_creates_finds_changes_disables_and_deletes_a_user(
    new_context: Any, platform: Any, kb_admin: dict[str, Any]
) -> None:
    tag = uuid.uuid4().hex[:8]
    email = f"nieuw-{tag}@bibliotheek.example"
    browser = new_context()
    page = log_in(browser, kb_admin)
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Gebruikers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gebruikers")
    check_page(browser, "beheer-gebruikers")

    page.get_by_role("link", name="Nieuwe gebruiker").click()
    # Nothing filled in: the API's field errors, in Dutch, next to the fields and on top.
    page.get_by_role("button", name="Gebruiker aanmaken").click()
    expect(page.locator("#foutoverzicht")).to_be_visible()
    expect(page.locator("#name-fout")).to_be_visible()
    check_page(browser, "beheer-gebruiker-nieuw-fouten")
    page.get_by_label("Naam", exact=True).fill(f"Nieuwe Collega {tag}")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Bibliotheekmedewerker").check()
    library = page.locator("#organisation_id option").nth(3)
    page.get_by_label("Bibliotheek", exact=True).select_option(library.get_attribute("value"))
    page.get_by_role("button", name="Gebruiker aanmaken").click()
    expect(page.get_by_role("status")).to_contain_text("De gebruiker is aangemaakt")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Nieuwe Collega {tag}")
    assert "/wachtwoord-instellen#token=" in text_of(platform.wait_for_mail(to(email)))
    user_url = page.url.split("?")[0]
    check_page(browser, "beheer-gebruiker")

    # Found by part of the e-mail address, with the keyboard alone.
    browser.goto("/beheer/gebruikers")
    tab_to(page, "zoek")
    page.keyboard.type(f"nieuw-{tag}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"1 gebruikers gevonden voor ‘nieuw-{tag}’")
    row = page.locator("tbody tr")
    expect(row).to_have_count(1)
    username = row.locator("th a").inner_text()
    tab_to(page, username)
    page.keyboard.press("Enter")
    expect(page).to_have_url(user_url)

    # Another role and no library: a researcher now.
    page.get_by_label("Naam", exact=True).fill(f"Onderzoeker {tag}")
    page.get_by_label("Bibliotheekmedewerker").uncheck()
    page.get_by_label("Onderzoeker").check()
    page.get_by_label("Bibliotheek", exact=True).select_option("")
    page.get_by_role("button", name="Wijzigingen opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("De wijzigingen zijn opgeslagen.")
    facts = page.locator(".bm-facts")
    expect(facts).to_contain_text("Onderzoeker")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Onderzoeker {tag}")

    page.get_by_role("button", name="Account uitschakelen").click()
    expect(page.get_by_role("status")).to_contain_text("Het account is uitgeschakeld")
    expect(facts).to_contain_text("Uitgeschakeld")
    page.get_by_role("button", name="Account weer inschakelen").click()
    expect(page.get_by_role("status")).to_contain_text("weer ingeschakeld")

    page.get_by_role("link", name="Gebruiker verwijderen (AVG)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gebruiker verwijderen")
    check_page(browser, "beheer-gebruiker-verwijderen")
    page.get_by_role("button", name="Definitief verwijderen").click()
    expect(page.get_by_role("status").first).to_contain_text("De gebruiker is verwijderd")
    page.get_by_label("Zoek een gebruiker").fill(f"nieuw-{tag}")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_role("status")).to_contain_text("0 gebruikers gevonden")


def test_kb_administrator_finds_and_edits_an_organisation_without_javascript(
    new_context: Any, platform: Any, kb_admin: dict[str, Any]
) -> None:
    browser = new_context(javascript=False)
    page = log_in(browser, kb_admin)
    page.get_by_role("link", name="Organisaties").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisaties")
    check_page(browser, "beheer-organisaties")
    first = page.locator("tbody tr th a").first
    name = first.inner_text()
    page.get_by_label("Zoek een bibliotheek").fill(name)
    page.get_by_role("button", name="Zoeken").click()
    expect(page.locator("tbody tr th a").first).to_have_text(name)
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    check_page(browser, "beheer-organisatie")

    inhabitants = page.get_by_label("Inwoners", exact=True).input_value()
    page.get_by_label("Inwoners", exact=True).fill("heel veel")
    page.get_by_role("button", name="Wijzigingen opslaan").click()
    expect(page.locator("#inhabitants-fout")).to_have_text("Vul een geheel getal in.")
    expect(page.get_by_label("Inwoners", exact=True)).to_have_attribute("aria-invalid", "true")
    check_page(browser)

    source = f"Gemeentelijke opgave {uuid.uuid4().hex[:6]}"
    page.get_by_label("Inwoners", exact=True).fill(inhabitants)
    page.get_by_label("Bron (niet verplicht)").fill(source)
    page.get_by_role("button", name="Wijzigingen opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("De wijzigingen zijn opgeslagen.")
    expect(page.locator(".bm-facts")).to_contain_text(source)
    with platform.client() as c:
        organisation_id = page.url.split("?")[0].rsplit("/", 1)[1]
        stored = c.get(f"/api/identity/organisations/{organisation_id}").json()
    assert stored["source"] == source
    assert str(stored["inhabitants"]) == inhabitants.replace(".", "")


def test_kb_administrator_sends_a_bounced_welcome_mail_again(
    new_context: Any, platform: Any, admin: dict[str, str], kb_admin: dict[str, Any]
) -> None:
    tag = uuid.uuid4().hex[:8]
    email = f"stuit-{tag}@bibliotheek.example"
    browser = new_context(javascript=False)
    page = log_in(browser, kb_admin)
    browser.goto("/beheer/gebruikers/nieuw")
    page.get_by_label("Naam", exact=True).fill(f"Stuitert {tag}")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Onderzoeker").check()
    page.get_by_label("Bibliotheekmedewerker").uncheck()
    # The relay turns the welcome mail away (451) at every attempt: the notifier gives up
    # and marks it failed, keeping the recipient for a retry (a 5xx would forget it).
    platform.smtp.fail_next(4)
    page.get_by_role("button", name="Gebruiker aanmaken").click()
    expect(page.get_by_role("status")).to_contain_text("De gebruiker is aangemaakt")
    deadline = time.monotonic() + 60
    failed = page.locator("tbody tr").filter(has_text="Welkom: wachtwoord instellen")
    while time.monotonic() < deadline:
        page.get_by_role("link", name="Mislukte e-mails").first.click()
        if failed.count():
            break
        time.sleep(1)
    platform.smtp.stop_failing()
    if not failed.count():
        with platform.client() as c:
            recent = c.get(
                "/api/notifier/emails", params={"limit": 5}, headers=auth(admin["access_token"])
            ).json()["items"]
        seen = [(e["template"], e["status"], e["attempts"], e["last_error"]) for e in recent]
        attempts = platform.smtp.attempts
        raise AssertionError(f"no failed welcome mail ({attempts} SMTP attempts): {seen}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mislukte e-mails")
    check_page(browser, "beheer-e-mails")
    page.locator("tbody tr").filter(has_text="Welkom: wachtwoord instellen").first.locator(
        "th a"
    ).click()
    expect(page.locator(".bm-facts")).to_contain_text("Mislukt")
    expect(page.locator(".bm-code")).to_contain_text("451")
    check_page(browser, "beheer-e-mail")
    page.get_by_role("button", name="Opnieuw versturen").click()
    expect(page.get_by_role("status")).to_contain_text("De e-mail staat weer in de wachtrij")
    welcome = platform.wait_for_mail(to(email))
    assert re.search(r"/wachtwoord-instellen#token=", text_of(welcome))
    page.reload()
    expect(page.locator(".bm-facts")).to_contain_text("Verstuurd")
    expect(page.get_by_role("button", name="Opnieuw versturen")).to_have_count(0)
