"""A researcher builds, previews and publishes a survey, follows its progress and reviews
the responses; library staff see and submit the new survey; a KB administrator reopens a
response without reading its answers; the builder also works without JavaScript.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
import pytest
from playwright.sync_api import Page, expect
from tests.e2e.browser.conftest import Checked, check_page
from tests.e2e.browser.helpers import login
from tests.e2e.helpers import auth, items_of, link_token, text_of, to

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _local(moment: datetime) -> str:
    """A `datetime-local` field's value in Dutch time."""
    return moment.astimezone(AMSTERDAM).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def admin_token(platform: Any, admin: dict[str, str]) -> str:
    """A valid access token of the KB administrator: the shared one lives 10 minutes, and
    this module may run long after it was made; then a new login (waiting for an unused
    TOTP time step if the current one was used)."""
    totp = pyotp.TOTP(admin["secret"])
    with platform.client(source="127.0.0.9") as c:
        if c.get("/api/identity/me", headers=auth(admin["access_token"])).status_code == 200:
            return admin["access_token"]
        for _ in range(3):
            step = c.post(
                "/api/identity/auth/login",
                json={"username": "admin", "password": platform.admin_password},
            ).json()
            resp = c.post(
                "/api/identity/auth/login/mfa",
                json={"mfa_token": step["mfa_token"], "code": totp.now()},
            )
            if resp.status_code == 200:
                admin["access_token"] = resp.json()["access_token"]  # for later tests too
                return admin["access_token"]
            time.sleep(30.5 - time.time() % 30)
    raise AssertionError(f"the KB administrator cannot log in again: {resp.text}")


def new_researcher(platform: Any, admin_token: str) -> dict[str, str]:
    """A researcher with a password (from the e-mailed link) and TOTP enrolled (API)."""
    tag = uuid.uuid4().hex[:8]
    email = f"onderzoeker-{tag}@kb.example"
    password = f"een lange zin voor onderzoek {tag}"
    with platform.client(source="127.0.0.9") as c:
        resp = c.post(
            "/api/identity/users",
            headers=auth(admin_token),
            json={
                "username": f"onderzoeker-{tag}",
                "name": f"Onderzoeker {tag}",
                "email": email,
                "roles": ["researcher"],
            },
        )
        assert resp.status_code == 201, resp.text
        welcome = platform.wait_for_mail(lambda m: to(email)(m) and "#token=" in text_of(m))
        resp = c.post(
            "/api/identity/auth/password-reset",
            json={"token": link_token(welcome), "new_password": password},
        )
        assert resp.status_code == 204, resp.text
        first = c.post(
            "/api/identity/auth/login",
            json={"username": f"onderzoeker-{tag}", "password": password},
        ).json()
        enrol = auth(first["access_token"])
        secret = c.post("/api/identity/me/mfa/totp", headers=enrol).json()["secret"]
        resp = c.post(
            "/api/identity/me/mfa/totp/confirm",
            headers=enrol,
            json={"code": pyotp.TOTP(secret).now()},
        )
        assert resp.status_code == 200, resp.text
    return {"username": f"onderzoeker-{tag}", "password": password, "secret": secret}


def login_with_code(page: Page, base_url: str, person: dict[str, str]) -> None:
    """Password, then a TOTP code the enrolment did not use (the next time step)."""
    page.goto(f"{base_url}/inloggen")
    page.get_by_label("Gebruikersnaam").fill(person["username"])
    page.get_by_label("Wachtwoord").fill(person["password"])
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_label("Code").fill(pyotp.TOTP(person["secret"]).at(time.time() + 30))
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()


def two_libraries(platform: Any, admin_token: str) -> list[dict[str, Any]]:
    """Two organisations, each with its demo staff user, and the organisation's name."""
    with platform.client(source="127.0.0.9") as c:
        users = items_of(
            c.get("/api/identity/users", params={"limit": 500}, headers=auth(admin_token)).json()
        )
        orgs = {
            o["id"]: o["name"]
            for o in c.get("/api/identity/organisations", params={"limit": 500}).json()["items"]
        }
    found: dict[str, dict[str, Any]] = {}
    for user in users:
        org = user.get("organisation_id")
        if org and org not in found and user["username"].startswith("staff-"):
            found[org] = {"organisation_id": org, "username": user["username"], "name": orgs[org]}
    assert len(found) >= 2
    # The last ones: the other browser tests use the first organisations of the register.
    return list(found.values())[-2:]


def _settle(page: Page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def _details(scope: Any, summary: str) -> Any:
    """A <details> block (in a page or a part of it) by its summary, opened."""
    root = scope if isinstance(scope, Page) else scope.page
    block = scope.locator("details", has=root.locator("summary", has_text=summary)).first
    if block.get_attribute("open") is None:
        block.locator("summary").first.click()
    return block


def test_researcher_builds_previews_publishes_and_reviews_a_survey(
    new_context: Any, platform: Any, admin: dict[str, str], admin_token: str
) -> None:
    researcher = new_researcher(platform, admin_token)
    library_a, library_b = two_libraries(platform, admin_token)
    title = f"Wifi-monitor {uuid.uuid4().hex[:6]}"
    now = datetime.now(AMSTERDAM)

    browser: Checked = new_context()
    page = browser.page
    login_with_code(page, platform.url, researcher)

    # -- the list of surveys, and a new one (first with a deadline before its opening) ----
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Onderzoeken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Onderzoeken")
    check_page(browser, "onderzoeken")
    page.get_by_role("link", name="Nieuw onderzoek").click()
    page.get_by_label("Titel", exact=True).fill(title)
    page.get_by_label("Omschrijving").fill("Hoe staat het met wifi in de bibliotheek?")
    page.get_by_label("Deelname is verplicht").check()
    page.get_by_label("Wsob (Wet stelsel openbare bibliotheekvoorzieningen)").check()
    page.get_by_label("Opent op").fill(_local(now - timedelta(minutes=2)))
    page.get_by_label("Sluit op").fill(_local(now - timedelta(days=1)))
    page.get_by_role("button", name="Onderzoek aanmaken").click()
    expect(page.locator("#closes_at-fout")).to_have_text(
        re.compile("sluiten nadat het opent|in de toekomst")
    )
    expect(page.locator("#foutoverzicht")).to_contain_text("Sluit op")
    expect(page.get_by_label("Titel", exact=True)).to_have_value(title)
    check_page(browser, "onderzoek-nieuw-fout")
    page.get_by_label("Sluit op").fill(_local(now + timedelta(days=20)))
    page.get_by_role("button", name="Onderzoek aanmaken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("status")).to_contain_text("Het onderzoek is aangemaakt")
    survey_id = page.url.split("/beheer/onderzoeken/")[1].split("?")[0]

    # -- a first section with a yes/no question (htmx updates the builder in place) -------
    block = _details(page, "Nieuw onderdeel")
    block.get_by_label("Titel van het onderdeel").fill("Wifi")
    block.get_by_label("Eerste vraag", exact=True).fill("Hebt u gratis wifi?")
    block.get_by_label("Soort vraag").select_option("yes_no")
    block.get_by_label("Sleutel van de eerste vraag (niet verplicht)").fill("wifi")
    block.get_by_role("button", name="Onderdeel toevoegen").click()
    expect(page.locator("#vraag-wifi")).to_contain_text("Hebt u gratis wifi?")
    expect(page.get_by_role("status")).to_contain_text("De wijziging is opgeslagen.")
    check_page(browser, "onderzoek-bouwer")

    # -- a number that appears only after "ja", with a range that is wrong first ----------
    section = page.locator("#onderdeel-wifi")
    add = _details(page.locator("#onderdeel-wifi"), "Vraag toevoegen")
    add.get_by_label("Vraag", exact=True).fill("Aantal wifi-hotspots")
    add.get_by_label("Soort vraag").select_option("integer")
    add.get_by_label("Sleutel (niet verplicht)").fill("hotspots")
    add.get_by_role("button", name="Vraag toevoegen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Vraag bewerken")
    page.get_by_label("Minimum").fill("10")
    page.get_by_label("Maximum").fill("5")
    page.get_by_label("Alleen tonen als deze vraag").select_option("wifi")
    page.get_by_label("dit antwoord heeft").fill("ja")
    page.get_by_role("button", name="Vraag opslaan").click()
    expect(page.locator("#min-fout")).to_have_text("Het minimum is groter dan het maximum.")
    expect(page.locator("#foutoverzicht")).to_contain_text("Minimum")
    expect(page.locator("#foutoverzicht li")).to_have_count(1)
    expect(page.get_by_label("Alleen tonen als deze vraag")).to_have_value("wifi")
    check_page(browser, "vraag-bewerken-fout")
    page.get_by_label("Minimum").fill("0")
    page.get_by_label("Maximum").fill("1.000")
    page.get_by_label("Ook vergelijken per 1.000 inwoners").check()
    page.get_by_role("button", name="Vraag opslaan").click()
    expect(page.locator("#vraag-hotspots")).to_contain_text(
        "Alleen als ‘Hebt u gratis wifi?’ is: ja"
    )
    expect(page.locator("#vraag-hotspots")).to_contain_text("0–1000")

    # -- a multiple choice question with options ----------------------------------------
    add = _details(page.locator("#onderdeel-wifi"), "Vraag toevoegen")
    add.get_by_label("Vraag", exact=True).fill("Welke diensten biedt u aan?")
    add.get_by_label("Soort vraag").select_option("multiple_choice")
    add.get_by_label("Sleutel (niet verplicht)").fill("diensten")
    add.get_by_role("button", name="Vraag toevoegen").click()
    page.get_by_label("Opties").fill("Leesclub\nTaalcafé\nmakerspace | Makerspace")
    page.get_by_role("button", name="Vraag opslaan").click()
    expect(section.locator("#vraag-diensten")).to_contain_text("3 opties")

    # -- a second section with an amount; its publication edited inline (htmx) ------------
    block = _details(page, "Nieuw onderdeel")
    block.get_by_label("Titel van het onderdeel").fill("Geld")
    block.get_by_label("Eerste vraag", exact=True).fill("Budget voor wifi")
    block.get_by_label("Soort vraag").select_option("amount")
    block.get_by_label("Sleutel van de eerste vraag (niet verplicht)").fill("budget")
    block.get_by_role("button", name="Onderdeel toevoegen").click()
    expect(page.locator("#vraag-budget")).to_contain_text("Bedrag in euro")
    page.locator("#vraag-budget").get_by_role("link", name="Bewerken").click()
    editor = page.locator("#vraag-budget #vraag-bewerken")
    expect(editor).to_be_visible()
    expect(editor.get_by_label("Soort vraag")).to_be_focused()
    check_page(browser, "vraag-bewerken-inline")
    # A mistake in the inline editor comes back in the editor itself.
    editor.get_by_label("Minimum").fill("veel")
    editor.get_by_role("button", name="Vraag opslaan").click()
    expect(page.locator("#vraag-budget #min-fout")).to_have_text(
        "Vul een getal in, bijvoorbeeld 12,5."
    )
    expect(page.locator("#vraag-budget #foutoverzicht")).to_be_visible()
    editor.get_by_label("Minimum").fill("")
    editor.get_by_label("Publicatie").select_option("internal")
    editor.get_by_role("button", name="Vraag opslaan").click()
    expect(page.locator("#vraag-budget")).to_contain_text("Intern: alleen in de vergelijkingen")
    expect(page.locator("#vraag-budget #vraag-bewerken")).to_have_count(0)
    assert "/vragen/" not in page.url  # stayed on the builder

    # -- key figures and participants ---------------------------------------------------
    figures = page.locator("#kerncijfers")
    figures.get_by_label("Aantal wifi-hotspots").check()
    figures.get_by_label("Budget voor wifi").check()
    figures.get_by_role("button", name="Kerncijfers opslaan").click()
    expect(page.locator("#vraag-budget")).to_contain_text("kerncijfer")
    participants = page.locator("#deelnemers")
    participants.get_by_label("Gekozen bibliotheken").check()
    chosen = _details(participants, "Bibliotheken kiezen")
    for library in (library_a, library_b):
        chosen.get_by_label(library["name"], exact=True).check()
    participants.get_by_role("button", name="Deelnemers opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("De wijziging is opgeslagen.")
    expect(page.locator("#participants_mode-list")).to_be_checked()
    check_page(browser, "onderzoek-bouwer-vol")

    # -- the preview: the questionnaire as staff see it, conditions included --------------
    page.get_by_role("link", name="Voorbeeld bekijken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("#vraag-hotspots input")).to_have_count(0)
    page.locator("#vraag-wifi").get_by_label("Ja").check()
    expect(page.get_by_label("Aantal wifi-hotspots")).to_be_visible()
    expect(page.get_by_label("Makerspace")).to_be_visible()
    check_page(browser, "onderzoek-voorbeeld")

    # -- publishing, after a confirmation -----------------------------------------------
    page.get_by_role("link", name="Terug naar het onderzoek").click()
    page.get_by_role("link", name="Publiceren…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Onderzoek publiceren")
    expect(page.get_by_role("main")).to_contain_text("De 2 deelnemende bibliotheken")
    check_page(browser, "onderzoek-publiceren")
    page.get_by_role("button", name="Ja, publiceren").click()
    expect(page.get_by_role("status")).to_contain_text("Het onderzoek is gepubliceerd")
    expect(page.locator(".bm-badge").first).to_have_text("Open")

    # -- library staff of a participant see it and submit it ------------------------------
    staff = new_context()
    staff_page = staff.page
    login(staff_page, platform.url, library_a["username"], platform.demo_password)
    staff_page.goto(f"{platform.url}/vragenlijsten")
    staff_page.get_by_role("link", name=title).click()
    expect(staff_page.get_by_role("heading", level=1)).to_have_text(title)
    staff_page.locator("#vraag-wifi").get_by_label("Ja").check()
    _settle(staff_page)
    staff_page.get_by_label("Aantal wifi-hotspots").fill("4")
    staff_page.get_by_label("Leesclub").check()
    staff_page.get_by_label("Budget voor wifi").fill("1.250")
    _settle(staff_page)
    staff_page.get_by_role("button", name="Opslaan en naar indienen").click()
    staff_page.get_by_role("button", name="Vragenlijst indienen").click()
    expect(staff_page.get_by_role("heading", level=1)).to_contain_text("Ontvangstbewijs")
    with platform.client(source="127.0.0.9") as c:
        token = c.post(
            "/api/identity/auth/login",
            json={"username": library_b["username"], "password": platform.demo_password},
        ).json()["access_token"]
        base = f"/api/responses/surveys/{survey_id}/response"
        resp = c.put(
            base, headers=auth(token), json={"answers": {"wifi": False, "budget": 9}, "version": 0}
        )
        assert resp.status_code == 200, resp.text
        resp = c.post(f"{base}/submit", headers=auth(token), json={"explanations": {}})
        assert resp.status_code == 200, resp.text

    # -- progress, then the review: accept one, return the other with a remark ------------
    page.get_by_role("link", name="Voortgang").first.click()
    table = page.get_by_role("table")
    expect(table.get_by_role("row").filter(has_text=library_a["name"])).to_contain_text("Ingediend")
    expect(table.get_by_role("row").filter(has_text=library_b["name"])).to_contain_text("Ingediend")
    check_page(browser, "onderzoek-voortgang")
    table.get_by_role("link", name=library_a["name"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(library_a["name"])
    answers = page.locator(".bm-answers")
    expect(answers.first).to_contain_text("Aantal wifi-hotspots")
    expect(answers.first).to_contain_text("Leesclub")
    expect(page.get_by_role("main")).to_contain_text("€ 1.250")
    check_page(browser, "onderzoek-beoordelen")
    page.get_by_role("button", name="Accepteren").click()
    expect(page.get_by_role("status")).to_contain_text("De inzending is geaccepteerd.")
    expect(page.locator(".bm-facts .bm-badge")).to_have_text("Geaccepteerd")

    page.get_by_role("link", name=re.compile("^Voortgang")).first.click()
    page.get_by_role("table").get_by_role("link", name=library_b["name"]).click()
    page.get_by_role("button", name="Terugsturen").click()
    expect(page.locator("#remark-fout")).to_have_text("Vul dit veld in.")
    check_page(browser)
    page.get_by_label("Opmerking voor de bibliotheek").fill("Het budget lijkt te laag.")
    page.get_by_role("button", name="Terugsturen").click()
    expect(page.get_by_role("status")).to_contain_text("De inzending is teruggestuurd")
    expect(page.locator(".bm-facts .bm-badge")).to_have_text("Teruggestuurd")
    with platform.client(source="127.0.0.9") as c:
        returned = c.get(f"/api/responses/surveys/{survey_id}/response", headers=auth(token)).json()
    assert returned["status"] == "returned"
    assert returned["remark"] == "Het budget lijkt te laag."

    # -- all reports: the accepted library's report page --------------------------------
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role(
        "link", name="Alle rapporten"
    ).click()
    expect(page.get_by_role("heading", level=2, name=title)).to_be_visible()
    check_page(browser, "alle-rapporten")
    survey_reports = page.locator("section", has=page.get_by_role("heading", name=title))
    for _ in range(30):  # reporting reads the submission from its event
        if survey_reports.locator("details").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    _details(survey_reports, "Rapporten per bibliotheek")
    report_link = survey_reports.get_by_role("link", name=library_a["name"], exact=True)
    report_link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    check_page(browser, "rapport-voor-onderzoeker")

    # -- closing, after a confirmation -------------------------------------------------
    page.goto(f"{platform.url}/beheer/onderzoeken/{survey_id}")
    page.get_by_role("link", name="Sluiten…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Onderzoek sluiten")
    check_page(browser, "onderzoek-sluiten")
    page.get_by_role("button", name="Ja, sluiten").click()
    expect(page.get_by_role("status")).to_contain_text("Het onderzoek is gesloten.")
    expect(page.locator(".bm-badge").first).to_have_text("Gesloten")
    check_page(browser, "onderzoek-gesloten")

    # -- a KB administrator sees the status (no answers) and reopens it for a correction --
    kb = new_context()
    # The shared administrator's next time step is for later tests (one code is used
    # once): start of a fresh step, whose code nobody can have used yet.
    time.sleep(30.5 - time.time() % 30)
    kb.page.goto(f"{platform.url}/inloggen")
    kb.page.get_by_label("Gebruikersnaam").fill("admin")
    kb.page.get_by_label("Wachtwoord").fill(platform.admin_password)
    kb.page.get_by_role("button", name="Inloggen").click()
    kb.page.get_by_label("Code").fill(pyotp.TOTP(admin["secret"]).now())
    kb.page.get_by_role("button", name="Inloggen").click()
    expect(kb.page.get_by_role("button", name="Uitloggen")).to_be_visible()
    kb.page.get_by_role("navigation", name="Hoofdmenu").get_by_role(
        "link", name="Onderzoeken"
    ).click()
    kb.page.get_by_role("link", name=title, exact=True).click()
    kb.page.get_by_role("link", name="Voortgang").first.click()
    kb.page.get_by_role("table").get_by_role("link", name=library_a["name"]).click()
    expect(kb.page.get_by_role("main")).to_contain_text("alleen voor onderzoekers zichtbaar")
    expect(kb.page.get_by_role("button", name="Accepteren")).to_have_count(0)
    check_page(kb, "onderzoek-inzending-beheerder")
    kb.page.get_by_label("Reden").fill("Het aantal hotspots is gewijzigd.")
    kb.page.get_by_role("button", name="Heropenen").click()
    expect(kb.page.get_by_role("status")).to_contain_text("De inzending is heropend")
    expect(kb.page.locator(".bm-facts .bm-badge")).to_have_text("Heropend")


def test_the_builder_works_without_javascript(
    new_context: Any, platform: Any, admin_token: str
) -> None:
    researcher = new_researcher(platform, admin_token)
    browser: Checked = new_context(javascript=False)
    page = browser.page
    login_with_code(page, platform.url, researcher)
    now = datetime.now(AMSTERDAM)
    title = f"Zonder script {uuid.uuid4().hex[:6]}"
    page.goto(f"{platform.url}/beheer/onderzoeken/nieuw")
    page.get_by_label("Titel", exact=True).fill(title)
    page.get_by_label("Opent op").fill(_local(now + timedelta(days=1)))
    page.get_by_label("Sluit op").fill(_local(now + timedelta(days=30)))
    page.get_by_role("button", name="Onderzoek aanmaken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)

    # A new section and its first question: a plain form post and a redirect.
    block = page.locator("details", has=page.locator("summary", has_text="Nieuw onderdeel"))
    block.get_by_label("Titel van het onderdeel").fill("Collectie")
    block.get_by_label("Eerste vraag", exact=True).fill("Aantal boeken")
    block.get_by_label("Soort vraag").select_option("integer")
    block.get_by_role("button", name="Onderdeel toevoegen").click()
    expect(page.locator("#vraag-aantal_boeken")).to_contain_text("Aantal boeken")
    check_page(browser, "onderzoek-bouwer-zonder-javascript")

    # A key that does not fit: the error beside the field, the form keeps what was typed.
    add = page.locator("#onderdeel-collectie details", has_text="Vraag toevoegen")
    add.locator("summary").click()
    add.get_by_label("Vraag", exact=True).fill("Datum van de telling")
    add.get_by_label("Soort vraag").select_option("date")
    add.get_by_label("Sleutel (niet verplicht)").fill("1-telling")
    add.get_by_role("button", name="Vraag toevoegen").click()
    expect(page.locator("#collectie_key-fout")).to_contain_text("kleine letters")
    expect(page.locator("#foutoverzicht")).to_be_visible()
    expect(page.get_by_label("Sleutel (niet verplicht)")).to_have_value("1-telling")
    check_page(browser)

    # One change: the question's label, on its own page, back to the builder.
    page.locator("#vraag-aantal_boeken").get_by_role("link", name="Bewerken").click()
    page.get_by_label("Vraag", exact=True).fill("Aantal boeken in de collectie")
    page.get_by_role("button", name="Vraag opslaan").click()
    expect(page.locator("#vraag-aantal_boeken")).to_contain_text("Aantal boeken in de collectie")
    expect(page.get_by_role("status")).to_contain_text("De wijziging is opgeslagen.")
    with platform.client(source="127.0.0.9") as c:
        surveys = c.get("/api/surveys/surveys", headers=auth(admin_token)).json()
    saved = next(s for s in surveys["items"] if s["title"] == title)
    label = saved["questionnaire"]["sections"][0]["questions"][0]["label"]
    assert label == "Aantal boeken in de collectie"
