"""Own account: TOTP enrolment (required for KB staff at their first login)."""

from __future__ import annotations

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from bibmon_web import i18n
from bibmon_web.client import Api, ApiError
from bibmon_web.pages import form_of, language, render, text

router = APIRouter(include_in_schema=False)


def qr_svg(uri: str, title: str) -> Markup:
    """The otpauth URI as inline SVG made here (no style attributes: the CSP holds)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, title=title, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704  (segno's own markup; the title is ours)


@router.get("/account/tweestapsverificatie")
async def totp_page(request: Request) -> Response:
    return render(request, "totp.html", step="start", error="")


@router.post("/account/tweestapsverificatie")
async def totp_start(request: Request) -> Response:
    """A new secret from identity, shown as QR code and text."""
    await form_of(request)
    enrolment = await Api(request).call("POST", "identity", "/me/mfa/totp")
    return render(
        request,
        "totp.html",
        step="scan",
        secret=enrolment["secret"],
        uri=enrolment["otpauth_uri"],
        qr=qr_svg(enrolment["otpauth_uri"], i18n.translate(language(request), "QR-code")),
        error="",
    )


@router.post("/account/tweestapsverificatie/bevestigen")
async def totp_confirm(request: Request) -> Response:
    """The first code turns TOTP on; the recovery codes are shown once."""
    form = await form_of(request)
    code = text(form, "code").replace(" ", "")
    api = Api(request)
    try:
        response = await api.raw(
            "POST", "identity", "/me/mfa/totp/confirm", json={"code": code or "-"}
        )
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.json())
    except ApiError as exc:
        if exc.status not in (400, 401, 422):
            raise
        return render(
            request,
            "totp.html",
            422,
            step="scan",
            secret=text(form, "secret"),
            uri=text(form, "uri"),
            qr=qr_svg(text(form, "uri"), "QR") if text(form, "uri") else "",
            error=i18n.translate(
                language(request), "Deze code klopt niet. Probeer de code die uw app nu toont."
            ),
        )
    api.pass_cookies(response)
    return render(request, "totp.html", step="done", codes=response.json()["recovery_codes"])
