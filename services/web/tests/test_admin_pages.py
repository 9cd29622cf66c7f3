"""The KB administrator's pages and the contact-person page: both languages, escaped, no
inline style, every form with its CSRF token and working as a plain form post."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from bibmon_web.config import WebSettings
from bibmon_web.main import create_app
from bibmon_web.messages_en import EN
from bibmon_web.pages import render
from bibmon_web.routes import admin_emails, admin_users, contact_person

APP = create_app(WebSettings(log_json=False))
PACKAGE = Path(admin_users.__file__).parents[1]
MODULES = (admin_users, admin_emails, contact_person)
ORG = "2b4e28ba-2fa1-11d2-883f-0016d3cca427"
USER = {
    "id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "username": "staff-voorbeeld",
    "name": "Anna <b>Voorbeeld</b>",
    "email": "anna@bibliotheek.example",
    "roles": ["library_staff"],
    "organisation_id": ORG,
    "organisation_name": "Bibliotheek Voorbeeld",
    "mfa_enabled": True,
    "password_set": True,
    "disabled": False,
    "locale": "nl",
    "setup_required": False,
    "created_at": "2026-11-29T12:00:00+00:00",
    "last_login_at": None,
}
ORGANISATION = {
    "id": ORG,
    "name": "Bibliotheek Voorbeeld",
    "province": "Utrecht",
    "municipalities": ["Voorbeeld", "Andersdorp"],
    "inhabitants": 123456,
    "size_class": "large",
    "size_class_label": "groot",
    "source": None,
    "primary_contact_user_id": USER["id"],
    "created_at": "2026-11-29T12:00:00+00:00",
    "updated_at": "2026-11-29T12:00:00+00:00",
}
EMAIL = {
    "id": "4b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "template": "survey_reminder",
    "locale": "nl",
    "status": "no_recipient",
    "attempts": 3,
    "last_error": "550 <mailbox> unavailable",
    "created_at": "2026-11-29T12:00:00+00:00",
    "sent_at": None,
    "next_attempt_at": None,
    "expires_at": None,
    "survey_id": "3b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "organisation_id": ORG,
}
PAGING = {"page": 2, "pages": 3, "total": 51, "offset": 25}


def _request(lang: str) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "app": APP,
        "method": "GET",
        "path": "/beheer/x",
        "query_string": b"",
        "headers": [(b"cookie", f"bibmon_lang={lang}; bibmon_access=t".encode())],
        "state": {},
    }
    request = Request(scope)
    request.state.csrf_token = "c" * 43
    request.state.me = {"id": "x", "name": "Beheer", "roles": ["kb_admin"], "organisation_id": None}
    return request


def _pages(lang: str) -> dict[str, str]:
    request = _request(lang)
    common = {"role_labels": admin_users.ROLE_LABELS}
    mails = {
        "status_labels": admin_emails.STATUS_LABELS,
        "template_labels": admin_emails.TEMPLATE_LABELS,
        "retryable": admin_emails.RETRYABLE,
        "organisations": {ORG: "Bibliotheek Voorbeeld"},
    }
    values = {"name": "", "email": "", "roles": ["kb_admin"], "organisation_id": ORG}
    pages = {
        "users": render(
            request, "admin/users.html", users=[USER], paging=PAGING, query="an&na", **common
        ),
        "user": render(
            request,
            "admin/user.html",
            user=USER,
            values=values,
            errors={"email": "Dit adres is al in gebruik.", "_form": "Mislukt"},
            done="opgeslagen",
            organisations=[ORGANISATION],
            **common,
        ),
        "user_new": render(
            request,
            "admin/user_new.html",
            values=values,
            errors={},
            organisations=[ORGANISATION],
            **common,
        ),
        "user_delete": render(request, "admin/user_delete.html", user=USER),
        "organisations": render(
            request,
            "admin/organisations.html",
            organisations=[ORGANISATION],
            paging=PAGING,
            query="",
        ),
        "organisation": render(
            request,
            "admin/organisation.html",
            organisation=ORGANISATION,
            members=[USER],
            values=admin_users._organisation_values(ORGANISATION),
            errors={},
            done="",
            **common,
        ),
        "emails": render(
            request,
            "admin/emails.html",
            emails=[EMAIL],
            next_before="2026-11-29T12:00:00+00:00",
            status="failed",
            older=False,
            **mails,
        ),
        "email": render(request, "admin/email.html", email=EMAIL, done="", refused="gone", **mails),
        "contact": render(
            request,
            "contact_person.html",
            survey={"id": EMAIL["survey_id"], "title": "Wsob-monitor 2026"},
            colleagues=[{"id": USER["id"], "name": USER["name"]}],
            contact=None,
            error="",
            me_id=USER["id"],
        ),
    }
    return {name: page.body.decode() for name, page in pages.items()}


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_admin_pages_render_escaped_without_inline_style_and_with_csrf_on_every_post(
    lang: str,
) -> None:
    for name, html in _pages(lang).items():
        assert "<b>Voorbeeld</b>" not in html, name
        assert "style=" not in html, name
        assert "<script>" not in html, name
        posts = len(re.findall(r'<form method="post"', html))
        # every post form, plus the log-out form in the header, carries the token
        assert html.count('name="csrf_token" value="' + "c" * 43) == posts, name


def test_admin_pages_show_what_the_administrator_needs() -> None:
    pages = _pages("nl")
    assert 'href="/beheer/gebruikers/1b4e28ba-2fa1-11d2-883f-0016d3cca427"' in pages["users"]
    assert "zoek=an%26na&amp;pagina=3" in pages["users"]  # next page keeps the search
    assert "zoek=an%26na&amp;pagina=1" in pages["users"]
    assert 'id="role-kb_admin" value="kb_admin" checked' in pages["user"]
    assert 'aria-describedby="email-uitleg email-fout"' in pages["user"]
    assert "Tweestapsverificatie wissen" in pages["user"]
    assert "123.456" in pages["organisation"]
    assert "Voorbeeld\nAndersdorp</textarea>" in pages["organisation"]
    assert "Herinnering vragenlijst" in pages["emails"]
    assert 'action="/beheer/e-mails/4b4e28ba-2fa1-11d2-883f-0016d3cca427/opnieuw"' in pages["email"]
    assert "&lt;mailbox&gt;" in pages["email"]
    for link in ("/beheer/gebruikers", "/beheer/organisaties", "/beheer/e-mails"):
        assert f'href="{link}"' in pages["users"]  # the KB administrator's menu
    assert 'type="radio" name="user_id"' in pages["contact"]
    english = _pages("en")
    assert "Failed e-mails" in english["emails"]
    assert "Register as contact person" in english["contact"]


def test_the_notifiers_reasons_for_refusing_a_retry_read_in_dutch() -> None:
    gone = "The recipient of this e-mail has already been removed; ask the sending service"
    assert admin_emails.refusal("nl", gone).startswith("De ontvanger van deze e-mail")
    assert admin_emails.refusal("en", gone).startswith("The recipient of this e-mail is no")
    assert admin_emails.refusal("nl", "Something new.") == "Something new."


def test_pager_counts_pages_and_offsets() -> None:
    assert admin_users.pager(1, 0) == {"page": 1, "pages": 1, "total": 0, "offset": 0}
    assert admin_users.pager(3, 51) == {"page": 3, "pages": 3, "total": 51, "offset": 50}


def test_every_dutch_text_of_these_pages_has_an_english_translation() -> None:
    texts: set[str] = set()
    for template in [*(PACKAGE / "templates" / "admin").glob("*.html")]:
        source = template.read_text(encoding="utf-8")
        texts.update(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', source))
        texts.update(re.findall(r"_\(\s*'((?:[^'\\]|\\.)*)'", source))
    for module in MODULES:
        source = Path(module.__file__).read_text(encoding="utf-8")
        for call in re.findall(
            r"translate\(\s*language\(request\),\s*((?:\"[^\"]*\"\s*)+)", source
        ):
            texts.add("".join(re.findall(r'"([^"]*)"', call)))
    texts.update(admin_users.ROLE_LABELS.values())
    texts.update(admin_emails.STATUS_LABELS.values())
    texts.update(admin_emails.TEMPLATE_LABELS.values())
    texts.update(admin_emails.REFUSALS.values())
    assert len(texts) > 50
    missing = sorted(t for t in texts if t not in EN)
    assert missing == []
