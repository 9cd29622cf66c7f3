"""Every e-mail renders in Dutch and English, as HTML and text, with its links and no gaps."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bibmon_notifier.rendering import LOCALES, TEMPLATES, Renderer, TemplateError

SUPPORT = "support@bibliotheekmonitor.test"
SET_PASSWORD_URL = "https://bibliotheekmonitor.test/wachtwoord-instellen#token=abc123"
RESET_URL = "https://bibliotheekmonitor.test/wachtwoord-herstellen#token=def456"
REPORT_URL = "https://bibliotheekmonitor.test/rapporten/0b5c9a55-2f7e-4c1e-9d0a-6f1f4b2a9e10"
SURVEY_URL = "https://bibliotheekmonitor.test/vragenlijsten/0b5c9a55-2f7e-4c1e-9d0a-6f1f4b2a9e10"

CONTEXTS: dict[str, dict[str, Any]] = {
    "account_request_received": {"organisation_name": "Bibliotheek Utrecht"},
    "account_welcome": {
        "set_password_url": SET_PASSWORD_URL,
        "username": "j.devries",
        "organisation_name": "Bibliotheek Utrecht",
        "expires_hours": 72,
    },
    "account_rejected": {"reason": "Uw organisatie is geen openbare bibliotheek."},
    "password_reset": {"reset_url": RESET_URL, "expires_minutes": 30},
    "password_changed": {},
    "account_locked": {"locked_minutes": 15},
    "email_changed": {},
    "survey_invitation": {
        "survey_title": "Bibliotheekmonitor 2026",
        "survey_description": "De jaarlijkse cijfers over collectie, leden en activiteiten.",
        "opens_at": "2026-11-02T08:00:00+00:00",
        "closes_at": "2026-12-01T16:00:00+00:00",
        "survey_url": SURVEY_URL,
        "mandatory": True,
        "legal_basis": "wsob",
        "legal_basis_name": None,
    },
    "survey_reminder": {
        "survey_title": "Bibliotheekmonitor 2026",
        "closes_at": "2026-12-01T16:00:00+00:00",
        "days_left": 7,
        "survey_url": SURVEY_URL,
        "mandatory": False,
        "legal_basis": None,
        "legal_basis_name": None,
    },
    "response_receipt": {
        "survey_title": "Bibliotheekmonitor 2026",
        "submitted_at": "2026-11-20T13:05:00+00:00",
        "survey_url": SURVEY_URL,
    },
    "response_returned": {
        "survey_title": "Bibliotheekmonitor 2026",
        "remark": "Het aantal leden <18 lijkt te hoog; klopt 12000?",
        "survey_url": SURVEY_URL,
    },
    "report_ready": {"survey_title": "Bibliotheekmonitor 2026", "report_url": REPORT_URL},
}
LINKS = {
    "account_welcome": SET_PASSWORD_URL,
    "password_reset": RESET_URL,
    "survey_invitation": SURVEY_URL,
    "survey_reminder": SURVEY_URL,
    "response_receipt": SURVEY_URL,
    "response_returned": SURVEY_URL,
    "report_ready": REPORT_URL,
}
CASES = [(t, loc) for t in sorted(TEMPLATES) for loc in LOCALES]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(support_address=SUPPORT)


def test_every_template_has_a_sample_context() -> None:
    assert set(CONTEXTS) == set(TEMPLATES)


@pytest.mark.parametrize(("template", "locale"), CASES)
def test_renders_subject_text_and_html(renderer: Renderer, template: str, locale: str) -> None:
    email = renderer.render(template, locale, CONTEXTS[template], recipient_name="Jan de Vries")

    assert email.subject
    assert "\n" not in email.subject
    assert "Jan de Vries" in email.text
    assert "Jan de Vries" in email.html
    assert "Bibliotheekmonitor" in email.html
    assert SUPPORT in email.text
    assert f'href="mailto:{SUPPORT}"' in email.html
    assert f'<html lang="{locale}">' in email.html
    assert f"<title>{email.subject}</title>" in email.html
    # css-inline moved the stylesheet onto the elements (mail clients drop <style>)
    assert 'style="' in email.html
    assert "{{" not in email.text
    assert "{%" not in email.text
    assert "{{" not in email.html
    assert "{%" not in email.html


@pytest.mark.parametrize(("template", "locale"), CASES)
def test_greets_without_a_name(renderer: Renderer, template: str, locale: str) -> None:
    email = renderer.render(template, locale, CONTEXTS[template], recipient_name=None)

    greeting = {"nl": "Hallo,", "en": "Hello,"}[locale]
    assert email.text.startswith(greeting)
    assert "None" not in email.text


@pytest.mark.parametrize(("template", "locale"), [c for c in CASES if c[0] in LINKS])
def test_links_are_in_text_and_html(renderer: Renderer, template: str, locale: str) -> None:
    email = renderer.render(template, locale, CONTEXTS[template])

    url = LINKS[template]
    assert url in email.text
    assert f'href="{url}"' in email.html


@pytest.mark.parametrize("locale", LOCALES)
def test_welcome_names_username_organisation_and_lifetime(renderer: Renderer, locale: str) -> None:
    email = renderer.render("account_welcome", locale, CONTEXTS["account_welcome"])

    assert "j.devries" in email.text
    assert "Bibliotheek Utrecht" in email.text
    assert re.search(r"72 (uur|hours)", email.text)


@pytest.mark.parametrize("locale", LOCALES)
def test_password_reset_says_thirty_minutes_and_ignore_if_not_you(
    renderer: Renderer, locale: str
) -> None:
    email = renderer.render("password_reset", locale, CONTEXTS["password_reset"])

    assert re.search(r"30 (minuten|minutes)", email.text)
    assert {"nl": "Was jij dit niet?", "en": "Not you?"}[locale] in email.text


def test_dutch_is_dutch_and_english_is_english(renderer: Renderer) -> None:
    nl = renderer.render("password_reset", "nl", CONTEXTS["password_reset"])
    en = renderer.render("password_reset", "en", CONTEXTS["password_reset"])

    assert "wachtwoord" in nl.subject.lower()
    assert "password" in en.subject.lower()
    assert "Met vriendelijke groet" in nl.text
    assert "Kind regards" in en.text


def test_dates_are_local_and_in_the_recipients_language(renderer: Renderer) -> None:
    at = datetime(2026, 3, 5, 13, 7, tzinfo=UTC)  # 14:07 in Amsterdam (CET)

    nl = renderer.render("password_changed", "nl", {}, occurred_at=at)
    en = renderer.render("password_changed", "en", {}, occurred_at=at)

    assert "5 maart 2026 om 14:07" in nl.text
    assert "5 March 2026 at 14:07" in en.text


def test_numbers_use_the_locale(renderer: Renderer) -> None:
    context = {**CONTEXTS["account_locked"], "locked_minutes": 1500}

    assert "1.500 minuten" in renderer.render("account_locked", "nl", context).text
    assert "1,500 minutes" in renderer.render("account_locked", "en", context).text


@pytest.mark.parametrize(
    ("locale", "one_address", "account_wide"),
    [("nl", "vanaf dat adres", "hebben we het"), ("en", "from that address", "locked it for")],
)
def test_a_lock_of_one_address_says_the_owner_can_sign_in_elsewhere(
    renderer: Renderer, locale: str, one_address: str, account_wide: str
) -> None:
    pair = {**CONTEXTS["account_locked"], "locked_from_one_address": True}
    for part in ("text", "html"):
        by_address = getattr(renderer.render("account_locked", locale, pair), part)
        whole = getattr(renderer.render("account_locked", locale, CONTEXTS["account_locked"]), part)
        assert one_address in by_address
        assert account_wide not in by_address
        assert account_wide in whole


@pytest.mark.parametrize("locale", LOCALES)
def test_names_and_reasons_are_escaped_in_html(renderer: Renderer, locale: str) -> None:
    evil = '<script>alert("x")</script>'
    email = renderer.render(
        "account_rejected", locale, {"reason": f"Nee {evil}"}, recipient_name=f"Eve {evil}"
    )

    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html
    # plain text is not HTML: shown as typed
    assert evil in email.text


@pytest.mark.parametrize("locale", LOCALES)
def test_rejection_without_reason_leaves_out_the_explanation(
    renderer: Renderer, locale: str
) -> None:
    email = renderer.render("account_rejected", locale, {})

    assert "Toelichting" not in email.text
    assert "explanation" not in email.text


def test_missing_context_is_refused(renderer: Renderer) -> None:
    with pytest.raises(TemplateError, match="reset_url"):
        renderer.render("password_reset", "nl", {"expires_minutes": 30})


def test_unknown_template_and_locale_are_refused(renderer: Renderer) -> None:
    with pytest.raises(TemplateError):
        renderer.render("survey_invitation_v9", "nl", {})
    with pytest.raises(TemplateError):
        renderer.render("password_changed", "de", {})


def test_links_must_be_web_links(renderer: Renderer) -> None:
    context = {**CONTEXTS["password_reset"], "reset_url": "javascript:alert(1)"}

    with pytest.raises(TemplateError, match="reset_url"):
        renderer.render("password_reset", "nl", context)


def test_a_variable_the_template_does_not_get_is_an_error_not_a_blank(tmp_path: Any) -> None:
    (tmp_path / "nl").mkdir()
    (tmp_path / "nl" / "password_changed.txt").write_text(
        "{% block subject %}x{% endblock %}{{ not_given }}"
    )
    (tmp_path / "nl" / "password_changed.html").write_text("<p>x</p>")
    strict = Renderer(support_address=SUPPORT, templates_dir=tmp_path)

    with pytest.raises(TemplateError, match="not_given"):
        strict.render("password_changed", "nl", {})


def _invitation(**overrides: Any) -> dict[str, Any]:
    return {**CONTEXTS["survey_invitation"], **overrides}


def test_mandatory_wsob_invitation_names_the_regulation(renderer: Renderer) -> None:
    email = renderer.render("survey_invitation", "nl", _invitation())

    assert email.subject == "Uitnodiging: vul de vragenlijst Bibliotheekmonitor 2026 in"
    assert "Deelname is verplicht op grond van de Regeling gegevenslevering Wsob" in email.text
    assert "Regeling gegevenslevering Wsob" in email.html
    assert "vrijwillig" not in email.text
    # the deadline as a Dutch date, in Dutch local time
    assert "1 december 2026 om 17:00" in email.text
    assert "De jaarlijkse cijfers" in email.text


def test_mandatory_subsidy_invitation_names_the_scheme(renderer: Renderer) -> None:
    context = _invitation(legal_basis="subsidy", legal_basis_name="Regeling innovatie 2026")
    nl = renderer.render("survey_invitation", "nl", context)
    en = renderer.render("survey_invitation", "en", context)

    assert "verplicht als voorwaarde van de subsidieregeling" in nl.text
    assert "Regeling innovatie 2026" in nl.text
    assert "Wsob" not in nl.text
    assert "condition of the subsidy scheme" in en.text
    assert "Regeling innovatie 2026" in en.html


def test_voluntary_invitation_explains_why_taking_part_helps(renderer: Renderer) -> None:
    context = _invitation(mandatory=False, legal_basis=None)
    nl = renderer.render("survey_invitation", "nl", context)
    en = renderer.render("survey_invitation", "en", context)

    assert "verplicht" not in nl.text
    assert "rapport en" in nl.text
    assert "infographic" in nl.text
    assert "in jullie provincie" in nl.text
    assert "vergelijkbare omvang" in nl.text
    assert "similar size" in en.text
    assert "required" not in en.text


def test_reminder_says_days_left_and_deadline(renderer: Renderer) -> None:
    reminder = CONTEXTS["survey_reminder"]
    email = renderer.render("survey_reminder", "nl", reminder)
    one_day = renderer.render("survey_reminder", "en", {**reminder, "days_left": 1})

    assert email.subject == "Herinnering: vul Bibliotheekmonitor 2026 in vóór 1 december 2026"
    assert "nog 7 dagen" in email.text
    assert "You have 1 day left" in one_day.text


def test_returned_mail_shows_the_remark_escaped_in_html(renderer: Renderer) -> None:
    email = renderer.render("response_returned", "nl", CONTEXTS["response_returned"])

    assert "Het aantal leden <18 lijkt te hoog" in email.text
    assert "Het aantal leden &lt;18 lijkt te hoog" in email.html
