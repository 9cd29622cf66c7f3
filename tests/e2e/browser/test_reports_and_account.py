"""Open data for anyone; a library's report and own account for its staff."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.browser.conftest import check_page
from tests.e2e.browser.helpers import login, new_staff_user
from tests.e2e.helpers import auth

from bibmon_demo.data import DEMO_CLOSED_SURVEY_ID

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]

CLOSED_SURVEY = str(DEMO_CLOSED_SURVEY_ID)


def _wait_until(fetch: Any, timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fetch()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"not there after {timeout} s")


def _closed_survey(c: httpx.Client, token: str) -> dict[str, Any]:
    resp = c.get(f"/api/surveys/surveys/{CLOSED_SURVEY}", headers=auth(token))
    assert resp.status_code == 200, resp.text
    survey: dict[str, Any] = resp.json()
    return survey


def test_open_data_page_lists_the_closed_survey_and_its_csv_downloads(
    new_context: Any, platform: Any
) -> None:
    with platform.client(source="127.0.0.9") as c:
        listed = _wait_until(
            lambda: [
                d
                for d in c.get("/api/reporting/open-data/surveys").json()
                if d["survey_id"] == CLOSED_SURVEY
            ]
        )
    dataset = listed[0]
    browser = new_context()  # nobody logged in: open data is public
    page = browser.goto("/open-data")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open data")
    card = page.locator(".bm-card").filter(has_text=dataset["title"])
    expect(card).to_contain_text(str(dataset["row_count"]))
    expect(card.get_by_role("link", name="CC0 1.0")).to_be_visible()
    expect(page.get_by_role("link", name="Catalogus voor open-dataportalen")).to_have_attribute(
        "href", "/api/reporting/open-data/catalog.jsonld"
    )
    check_page(browser, "open-data")
    with page.expect_download() as download_info:
        card.get_by_role("link", name="CSV").click()
    download = download_info.value
    header = Path(download.path()).read_text(encoding="utf-8").splitlines()[0]
    assert "organisation_id" in header
    assert "visits" in header

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("link", name="Data dictionary").first).to_be_visible()
    check_page(browser)


def test_staff_read_their_report_download_their_data_and_change_their_password(
    new_context: Any, platform: Any, admin: dict[str, str]
) -> None:
    token = admin["access_token"]
    with platform.client(source="127.0.0.9") as c:
        survey = _closed_survey(c, token)
        organisation_id = sorted(survey["participant_ids"])[0]
        _wait_until(
            lambda: (
                c.get(
                    f"/api/reporting/surveys/{CLOSED_SURVEY}/benchmark",
                    params={"organisation_id": organisation_id},
                    headers=auth(token),
                ).status_code
                == 200
            )
        )
    person = new_staff_user(platform, token, organisation_id)
    browser = new_context()
    page = browser.page
    login(page, browser.base_url, person["username"], person["password"])

    # The start page lists the report of the closed survey.
    page.get_by_role("link", name=survey["title"]).click()
    expect(page).to_have_url(f"{browser.base_url}/rapporten/{CLOSED_SURVEY}")
    expect(page.get_by_role("heading", level=1)).to_have_text(survey["title"])
    expect(page.get_by_role("heading", name="Kerncijfers")).to_be_visible()
    table = page.get_by_role("table").first
    expect(table.get_by_role("rowheader", name="Nederland")).to_be_visible()
    expect(page.get_by_role("link", name="Rapport (PDF)")).to_have_attribute(
        "href", f"/api/reporting/surveys/{CLOSED_SURVEY}/report.pdf"
    )
    check_page(browser, "rapport")

    missing = page.goto(f"{browser.base_url}/rapporten/{uuid.uuid4()}")
    assert missing is not None
    assert missing.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Pagina niet gevonden")

    # Mijn account: TOTP status, the AVG export, a new password.
    browser.goto("/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn account")
    expect(page.get_by_text("Tweestapsverificatie staat uit.")).to_be_visible()
    check_page(browser, "account")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Mijn gegevens downloaden (JSON)").click()
    download = download_info.value
    exported = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert person["email"] in json.dumps(exported)

    page.get_by_label("Huidig wachtwoord").fill("niet mijn wachtwoord hoor")
    new_password = f"een nieuwe lange zin {uuid.uuid4().hex[:8]}"
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(new_password)
    page.get_by_label("Herhaal het nieuwe wachtwoord").fill(new_password)
    page.get_by_role("button", name="Wachtwoord wijzigen").click()
    expect(page.locator("#current_password-fout")).to_have_text(
        "Dit is niet uw huidige wachtwoord."
    )
    check_page(browser)
    page.get_by_label("Huidig wachtwoord").fill(person["password"])
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(new_password)
    page.get_by_label("Herhaal het nieuwe wachtwoord").fill(new_password)
    page.get_by_role("button", name="Wachtwoord wijzigen").click()
    expect(page.get_by_role("status")).to_contain_text("Uw wachtwoord is gewijzigd.")
    # This browser goes on with the fresh session; the old password no longer works.
    browser.goto("/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn account")
    with platform.client(source="127.0.0.9") as c:
        old = c.post(
            "/api/identity/auth/login",
            json={"username": person["username"], "password": person["password"]},
        )
        assert old.status_code == 401
        new = c.post(
            "/api/identity/auth/login",
            json={"username": person["username"], "password": new_password},
        )
        assert new.status_code == 200, new.text
