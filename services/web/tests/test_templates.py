"""Pages render in both languages with every variable they need (StrictUndefined)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from bibmon_web.config import WebSettings
from bibmon_web.main import create_app
from bibmon_web.pages import render
from bibmon_web.routes.account import qr_svg

APP = create_app(WebSettings(log_json=False))


def _request(lang: str) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "app": APP,
        "method": "GET",
        "path": "/x",
        "query_string": b"",
        "headers": [(b"cookie", f"bibmon_lang={lang}; bibmon_access=t".encode())],
        "state": {},
    }
    request = Request(scope)
    request.state.csrf_token = "c" * 43
    request.state.me = {"name": "KB-beheerder", "roles": ["kb_admin"], "organisation_id": None}
    return request


REQUEST = {
    "id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "name": "Nieuwe Medewerker",
    "email": "nieuw@bibliotheek.example",
    "organisation_id": "2b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "organisation_name": "Bibliotheek Voorbeeld",
    "message": "Graag een account <script>",
    "created_at": "2026-11-29T12:00:00+00:00",
}


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_totp_enrolment_pages_render_with_a_qr_code_without_style_attributes(lang: str) -> None:
    request = _request(lang)
    start = render(request, "totp.html", step="start", error="")
    assert b'action="/account/tweestapsverificatie"' in start.body
    qr = qr_svg("otpauth://totp/Bibliotheekmonitor:admin?secret=JBSWY3DPEHPK3PXP", "QR")
    scan = render(
        request,
        "totp.html",
        step="scan",
        secret="JBSWY3DPEHPK3PXP",
        uri="otpauth://x",
        qr=qr,
        error="",
    )
    assert b"<svg" in scan.body
    assert b"style=" not in scan.body  # the gateway's CSP refuses inline style
    done = render(request, "totp.html", step="done", codes=["abcd-efgh"] * 10)
    assert done.body.count(b"abcd-efgh") == 10


def test_account_requests_page_escapes_what_applicants_typed() -> None:
    page = render(
        _request("nl"), "admin_requests.html", requests=[REQUEST], done="", error="", failed=""
    )
    assert b"Graag een account &lt;script&gt;" in page.body
    assert b"Goedkeuren" in page.body
    assert b'name="csrf_token" value="' + b"c" * 43 in page.body
    assert b'href="/beheer/aanvragen"' in page.body  # the KB administrator's menu


def _group(kind: str, label: str, n: int, **figures: float) -> dict[str, Any]:
    return {"kind": kind, "label": label, "n": n, "too_few": not figures, **figures}


REPORT = {
    "survey": {"id": "3b4e28ba-2fa1-11d2-883f-0016d3cca427", "title": "Wsob-monitor 2025"},
    "organisation": {
        "id": "2b4e28ba-2fa1-11d2-883f-0016d3cca427",
        "name": "Bibliotheek Voorbeeld",
        "province": "Utrecht",
        "size_class": "m",
        "size_class_label": "50.000 tot 100.000 inwoners",
    },
    "computed_at": "2026-11-29T12:00:00+00:00",
    "min_group_size": 5,
    "counted": 140,
    "sections": [
        {
            "key": "gebruik",
            "title": "Gebruik",
            "questions": [
                {
                    "key": "visits",
                    "label": "Bezoeken",
                    "type": "integer",
                    "unit": "bezoeken",
                    "key_figure": True,
                    "numeric": {
                        "own": 1234.56,
                        "groups": [
                            _group(
                                "national",
                                "Nederland",
                                140,
                                mean=1500.25,
                                median=1400.0,
                                q1=900.0,
                                q3=2000.0,
                                percentile_rank=42.4,
                            ),
                            _group("province", "Utrecht", 3),
                        ],
                    },
                    "per_inhabitant": None,
                    "own_choice": None,
                    "choice": None,
                },
                {
                    "key": "wifi",
                    "label": "Gratis wifi",
                    "type": "yes_no",
                    "unit": "",
                    "key_figure": False,
                    "numeric": None,
                    "per_inhabitant": None,
                    "own_choice": ["false"],
                    "choice": [
                        {
                            "kind": "national",
                            "label": "Nederland",
                            "n": 140,
                            "too_few": False,
                            "shares": [
                                {"value": "true", "label": "Ja", "percent": 91.4},
                                {"value": "false", "label": "Nee", "percent": 8.6},
                            ],
                        }
                    ],
                },
            ],
        }
    ],
}


def test_report_page_shows_dutch_figures_and_hides_groups_that_are_too_small() -> None:
    request = _request("nl")
    key_figures = [q for s in REPORT["sections"] for q in s["questions"] if q["key_figure"]]
    page = render(
        request,
        "report.html",
        report=REPORT,
        key_figures=key_figures,
        downloads={"pdf": "/r.pdf", "png": "/i.png", "svg": "/i.svg"},
    ).body.decode()
    assert "1.234,6 bezoeken" in page
    assert "1.400" in page
    assert "42%" in page
    assert "te weinig deelnemers" in page
    assert "Ja: 91%; Nee: 9%" in page
    # The library's own answer by its label, as the API sends the option value.
    assert "<strong>Nee</strong>" in page
    assert "<strong>false</strong>" not in page
    assert 'href="/r.pdf"' in page
    assert "style=" not in page
    english = render(
        _request("en"),
        "report.html",
        report=REPORT,
        key_figures=key_figures,
        downloads={"pdf": "/r.pdf", "png": "/i.png", "svg": "/i.svg"},
    ).body.decode()
    assert "1,234.6" in english
    assert "too few participants" in english


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_open_data_and_account_pages_render(lang: str) -> None:
    request = _request(lang)
    dataset = {
        "survey_id": "3b4e28ba-2fa1-11d2-883f-0016d3cca427",
        "title": "Wsob-monitor 2025",
        "year": 2025,
        "dataset_version": 2,
        "row_count": 140,
        "licence": "CC0-1.0",
        "published_at": "2026-11-29T12:00:00+00:00",
    }
    rows = [
        {
            "dataset": dataset,
            "links": {"csv": "/a.csv", "json": "/a.json", "dictionary": "/d.json"},
            "sizes": {},
            "licence": ("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/deed.nl"),
        }
    ]
    full = render(request, "open_data.html", rows=rows, catalogue="/c.jsonld").body
    assert b'href="/a.csv"' in full
    assert b'rel="license"' in full
    empty = render(request, "open_data.html", rows=[], catalogue="/c.jsonld").body
    assert b"/a.csv" not in empty
    me = {
        "name": "Medewerker",
        "username": "medewerker",
        "email": "m@bibliotheek.example",
        "organisation_name": "Bibliotheek Voorbeeld",
        "mfa_enabled": False,
        "roles": ["library_staff"],
    }
    account = render(request, "account.html", me=me, errors={}, changed=False).body
    assert b'name="current_password"' in account
    assert b"/account/mijn-gegevens.json" in account
    setup = render(request, "account_setup.html", errors={}, values={}).body
    assert b'action="/account/instellen"' in setup
