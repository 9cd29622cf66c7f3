"""Pages for anyone, and the API docs, in Chromium under the gateway's CSP."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from tests.e2e.browser.conftest import check_page

pytestmark = pytest.mark.e2e


def test_public_pages_are_dutch_accessible_and_switch_to_english(new_context: Any) -> None:
    browser = new_context()
    page = browser.goto("/")
    # Anonymous: the start page is the login page.
    expect(page).to_have_url(f"{browser.base_url}/inloggen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    expect(page.get_by_label("Gebruikersnaam")).to_be_visible()
    expect(page.get_by_role("link", name="bibliotheekmonitor@kb.nl")).to_have_attribute(
        "href", "mailto:bibliotheekmonitor@kb.nl"
    )
    check_page(browser, "inloggen")

    # The skip link is the first stop of the keyboard and leads to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Naar de inhoud")).to_be_focused()

    for path, heading, shot in (
        ("/wachtwoord-vergeten", "Wachtwoord vergeten", "wachtwoord-vergeten"),
        ("/account-aanvragen", "Account aanvragen", "account-aanvragen"),
        ("/veelgestelde-vragen", "Veelgestelde vragen", "veelgestelde-vragen"),
    ):
        browser.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        check_page(browser, shot)
    for topic in ("Wie krijgt de e-mails?", "Verplichte vragenlijsten", "Privacy en AVG"):
        expect(page.get_by_role("heading", name=topic)).to_be_visible()

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Frequently asked questions")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    browser.goto("/inloggen")
    expect(page.get_by_label("Username")).to_be_visible()
    check_page(browser)
    page.get_by_role("link", name="Nederlands").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")


def test_wrong_login_says_so_next_to_the_form(new_context: Any) -> None:
    browser = new_context()
    page = browser.goto("/inloggen")
    page.get_by_role("button", name="Inloggen").click()
    expect(page.locator("#username-fout")).to_have_text("Vul uw gebruikersnaam in.")
    expect(page.get_by_label("Gebruikersnaam")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Gebruikersnaam").fill("niemand")
    page.get_by_label("Wachtwoord").fill("geen-goed-wachtwoord-hoor")
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("alert")).to_contain_text("klopt niet")
    check_page(browser)


def test_password_link_without_javascript_asks_to_paste_the_link(new_context: Any) -> None:
    browser = new_context(javascript=False)
    page = browser.goto("/wachtwoord-instellen#token=abc")
    # Without JavaScript the fragment never reaches a server: the person pastes the link.
    field = page.get_by_label("Link uit de e-mail")
    expect(field).to_be_visible()
    expect(field).to_have_value("")
    field.fill("https://bibliotheekmonitor.example/wachtwoord-instellen#token=" + "x" * 43)
    page.get_by_label("Nieuw wachtwoord", exact=True).fill("een lange zin als wachtwoord 42")
    page.get_by_label("Herhaal het nieuwe wachtwoord").fill("een lange zin als wachtwoord 42")
    page.get_by_role("button", name="Wachtwoord opslaan").click()
    # The pasted link's token reached identity, which refuses an unknown one.
    expect(page.locator("#token-fout")).to_contain_text("ongeldig, al gebruikt of verlopen")
    check_page(browser, "wachtwoord-instellen-zonder-javascript")


@pytest.mark.parametrize("service", ["identity", "surveys", "responses", "reporting", "notifier"])
def test_api_docs_render_through_the_gateway_under_its_csp(new_context: Any, service: str) -> None:
    browser = new_context()
    page = browser.goto(f"/api/{service}/docs")
    expect(page.locator(".swagger-ui .information-container .title")).to_contain_text(
        "Bibliotheekmonitor"
    )
    expect(page.locator(".opblock").first).to_be_visible()
    assert not browser.csp_violations, browser.csp_violations
