"""Library staff register a colleague as the survey's contact person (no JavaScript)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from tests.e2e.browser.conftest import check_page
from tests.e2e.browser.helpers import (
    OPEN_SURVEY,
    login,
    new_staff_user,
    participating_organisations,
)
from tests.e2e.helpers import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def test_staff_register_a_colleague_as_contact_person_without_javascript(
    new_context: Any, platform: Any, admin: dict[str, str]
) -> None:
    staff = participating_organisations(platform, admin["access_token"])[-1]
    colleague = new_staff_user(platform, admin["access_token"], staff["organisation_id"])
    colleague_name = f"Collega {colleague['username'].removeprefix('collega-')}"
    browser = new_context(javascript=False)
    page = browser.page
    login(page, browser.base_url, staff["username"], platform.demo_password)
    browser.goto(f"/vragenlijsten/{OPEN_SURVEY}")
    page.get_by_role("link", name="Een collega aanmelden als contactpersoon").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contactpersoon aanmelden")
    check_page(browser, "contactpersoon-aanmelden")

    # Nobody chosen: the page says so, and nothing changes.
    page.get_by_role("button", name="Aanmelden als contactpersoon").click()
    expect(page.get_by_role("alert")).to_contain_text("Kies wie de contactpersoon wordt.")
    check_page(browser)

    page.get_by_label(colleague_name).check()
    page.get_by_role("button", name="Aanmelden als contactpersoon").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Contactpersoon aanmelden")
    expect(page.locator(".bm-facts")).to_contain_text(colleague_name)
    with platform.client() as c:
        contact = c.get(
            f"/api/identity/surveys/{OPEN_SURVEY}/contacts/{staff['organisation_id']}",
            headers=auth(admin["access_token"]),
        ).json()
    assert contact["name"] == colleague_name

    # Back to oneself with the button on the questionnaire page.
    page.get_by_role("button", name="Mijzelf aanmelden als contactpersoon").click()
    expect(page.locator(".bm-facts")).not_to_contain_text(colleague_name)
