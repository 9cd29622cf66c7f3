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
