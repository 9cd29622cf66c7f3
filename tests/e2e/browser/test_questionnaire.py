"""Library staff fill in a questionnaire: keyboard only, two colleagues, no JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.browser.conftest import check_page
from tests.e2e.browser.helpers import (
    OPEN_SURVEY,
    login,
    new_staff_user,
    participating_organisations,
    previous_number,
)
from tests.e2e.helpers import text_of, to

pytestmark = pytest.mark.e2e

FOCUS = (
    "(() => { const e = document.activeElement; return {tag: e.tagName, type: e.type || '',"
    " name: e.name || '', value: e.value || '', text: (e.textContent || '').trim(),"
    " group: e.name ? [...document.getElementsByName(e.name)].some(x => x.checked) : false};"
    " })()"
)


@pytest.fixture(scope="module")
def libraries(platform: Any, admin: dict[str, str]) -> list[dict[str, Any]]:
    """Demo users of organisations taking part in the open survey (one per test)."""
    found = participating_organisations(platform, admin["access_token"])
    assert len(found) >= 3
    return found


def _settle(page: Page) -> None:
    """Wait for htmx's autosave (change, 500 ms delay, request) to finish."""
    page.wait_for_timeout(700)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def _value_for(page: Page, key: str, tag: str) -> str:
    if tag == "TEXTAREA":
        return "Geen bijzonderheden dit jaar."
    return previous_number(page, key) or "12"


def fill_with_keyboard(page: Page, stop_button: str) -> int:
    """Tab through the form, answering every empty field, until the named button."""
    answered = 0
    for _ in range(300):
        page.keyboard.press("Tab")
        info = page.evaluate(FOCUS)
        if info["tag"] == "BUTTON" and info["text"] == stop_button:
            return answered
        if not info["name"].startswith(("a.", "uitleg.")):
            continue
        key = info["name"].split(".", 1)[1]
        if info["type"] in ("radio", "checkbox"):
            if not info["group"]:
                page.keyboard.press("Space")  # the first option of the group
                answered += 1
                _settle(page)
        elif not info["value"]:
            page.keyboard.type(_value_for(page, key, info["tag"]))
            answered += 1
            page.keyboard.press("Tab")  # leave the field: the change saves it
            _settle(page)
            page.keyboard.press("Shift+Tab")
    raise AssertionError(f"never reached the button {stop_button!r}")


def test_staff_fills_in_and_submits_with_the_keyboard_only(
    new_context: Any, platform: Any, libraries: list[dict[str, Any]]
) -> None:
    staff = libraries[0]
    browser = new_context()
    page = browser.page
    login(page, browser.base_url, staff["username"], platform.demo_password)
    check_page(browser, "start")

    page.get_by_role("link", name="Vragenlijsten", exact=True).click()
    card = page.get_by_role("listitem").filter(has_text="Wsob-gegevenslevering")
    expect(card).to_contain_text("Ja, op grond van de Wsob")
    check_page(browser, "vragenlijsten")
    card.get_by_role("link").click()
    expect(page).to_have_url(f"{browser.base_url}/vragenlijsten/{OPEN_SURVEY}")
    page.get_by_role("button", name="Mijzelf aanmelden als contactpersoon").click()
    expect(page.locator(".bm-facts")).to_contain_text(
        re.compile(r"Contactpersoon\s*Medewerker ", re.IGNORECASE)
    )
    expect(page.get_by_role("button", name="Mijzelf aanmelden als contactpersoon")).to_have_count(0)
    check_page(browser, "vragenlijst")

    # Last year's answers stand beside the fields.
    expect(page.locator(".bm-previous").first).to_contain_text("Vorige keer:")

    page.locator("#inhoud").focus()
    answered = fill_with_keyboard(page, "Opslaan en naar indienen")
    assert answered >= 8
    expect(page.locator("#opslaan-status")).to_contain_text("Opgeslagen om")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Controleren en indienen")
    check_page(browser, "indienen")
    page.locator("#inhoud").focus()
    fill_with_keyboard(page, "Vragenlijst indienen")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Ontvangstbewijs")
    expect(page.get_by_role("status")).to_contain_text("ingediend op")
    check_page(browser, "ontvangstbewijs")
    # The receipt goes to the contact person this staff member registered as.
    mail = platform.wait_for_mail(
        lambda m: to(staff["email"])(m) and str(m["Subject"]).startswith("Ontvangen:")
    )
    assert "Wsob-gegevenslevering" in str(mail["Subject"])
    assert "Wsob-gegevenslevering" in text_of(mail)


def test_two_colleagues_see_and_resolve_a_conflict(
    new_context: Any, platform: Any, admin: dict[str, str], libraries: list[dict[str, Any]]
) -> None:
    staff = libraries[1]
    colleague = new_staff_user(platform, admin["access_token"], staff["organisation_id"])
    anna, bert = new_context(), new_context()
    login(anna.page, anna.base_url, staff["username"], platform.demo_password)
    login(bert.page, bert.base_url, colleague["username"], colleague["password"])
    for person in (anna, bert):
        person.goto(f"/vragenlijsten/{OPEN_SURVEY}")

    label = "Aantal vrijwilligers"
    anna.page.get_by_label(label).fill("84")
    anna.page.get_by_label(label).press("Tab")
    expect(anna.page.locator("#opslaan-status")).to_contain_text("Opgeslagen om")

    # Bert still sees the empty field, and types another figure.
    bert.page.get_by_label(label).fill("90")
    bert.page.get_by_label(label).press("Tab")
    conflict = bert.page.locator(".bm-conflict")
    expect(conflict).to_contain_text(f"‘{label}’ intussen gewijzigd in: 84")
    expect(conflict).to_contain_text("Uw invoer (90) is niet opgeslagen")
    expect(bert.page.get_by_label(label)).to_have_value("84")
    expect(bert.page.locator("#foutoverzicht")).to_contain_text(label)
    check_page(bert, "vragenlijst-conflict")

    # Bert is sure: he types his figure again, and this time it is saved.
    bert.page.get_by_label(label).fill("90")
    bert.page.get_by_label(label).press("Tab")
    expect(bert.page.locator("#opslaan-status")).to_contain_text("Opgeslagen om")
    expect(conflict).to_have_count(0)

    # Anna's next save brings Bert's figure into her form, with a note.
    members = anna.page.get_by_label("Aantal leden op 31 december")
    members.fill(previous_number(anna.page, "members") or "100")
    members.press("Tab")
    expect(anna.page.get_by_label(label)).to_have_value("90")
    expect(anna.page.locator(".bm-note")).to_contain_text("door een collega gewijzigd")


def _fill_without_javascript(page: Page) -> int:
    """Answer every empty visible field of the page (no JavaScript: plain form fields)."""
    answered = 0
    for block in page.locator(".bm-question:not(.bm-question--hidden)").all():
        key = block.locator("input[name=q]").get_attribute("value") or ""
        radios = block.locator("input[type=radio], input[type=checkbox]")
        if radios.count():
            if not any(r.is_checked() for r in radios.all()):
                radios.first.check()
                answered += 1
            continue
        field = block.locator("input[type=text], textarea").first
        if field.count() and not field.input_value():
            tag = field.evaluate("e => e.tagName")
            field.fill(_value_for(page, key, tag))
            answered += 1
    return answered


def test_save_and_submit_work_without_javascript(
    new_context: Any, platform: Any, libraries: list[dict[str, Any]]
) -> None:
    staff = libraries[2]
    browser = new_context(javascript=False)
    page = browser.page
    login(page, browser.base_url, staff["username"], platform.demo_password)
    browser.goto(f"/vragenlijsten/{OPEN_SURVEY}")

    # A figure that is no number: nothing else is lost, the error stands at the field.
    first = page.locator(".bm-input--number").first
    first_label = page.locator(".bm-question").first.locator("label").first.inner_text()
    first.fill("veel")
    assert _fill_without_javascript(page) >= 5
    page.get_by_role("button", name="Opslaan", exact=True).click()
    summary = page.locator("#foutoverzicht")
    expect(summary).to_contain_text(re.sub(r"\s*\(verplicht\)$", "", first_label))
    expect(summary).to_contain_text("Vul een heel getal in")
    expect(page.locator(".bm-question--invalid .utrecht-textbox")).to_have_attribute(
        "aria-invalid", "true"
    )
    check_page(browser, "vragenlijst-fouten-zonder-javascript")
    expect(page.locator(".bm-input--number").nth(1)).not_to_have_value("")

    first.fill("1200")
    page.get_by_role("button", name="Opslaan", exact=True).click()
    expect(page.locator(".utrecht-alert--ok")).to_contain_text("Uw antwoorden zijn opgeslagen.")
    # Conditional questions appear after the save that makes them relevant.
    while _fill_without_javascript(page):
        page.get_by_role("button", name="Opslaan", exact=True).click()
    page.get_by_role("button", name="Opslaan en naar indienen").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Controleren en indienen")
    for explanation in page.locator("textarea").all():
        explanation.fill("Dit klopt: we hebben een nieuwe vestiging geopend.")
    page.get_by_role("button", name="Vragenlijst indienen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ontvangstbewijs")
    check_page(browser)
