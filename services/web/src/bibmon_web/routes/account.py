"""Own account: first-login setup, TOTP enrolment, password change, AVG export."""

from __future__ import annotations

import re
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from bibmon_web import i18n
from bibmon_web.client import Api, ApiError
from bibmon_web.pages import form_of, language, redirect, render, text
from bibmon_web.problems import field_errors

router = APIRouter(include_in_schema=False)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _t(request: Request, text_: str, **values: Any) -> str:
    return i18n.translate(language(request), text_, **values)


def _password(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _problem(response: Any) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    return ApiError(response.status_code, body if isinstance(body, dict) else {})


# -- first login of the bootstrap administrator ------------------------------------------
@router.get("/account/instellen")
async def setup_page(request: Request) -> Response:
    return render(request, "account_setup.html", errors={}, values={})


@router.post("/account/instellen")
async def setup(request: Request) -> Response:
    """E-mail address and an own password; identity then asks for TOTP enrolment."""
    form = await form_of(request)
    email = text(form, "email")
    password = _password(form, "new_password")
    errors: dict[str, str] = {}
    if not EMAIL_RE.match(email):
        errors["email"] = _t(request, "Vul een e-mailadres in, zoals naam@bibliotheek.nl.")
    if not password:
        errors["new_password"] = _t(request, "Kies een wachtwoord.")
    elif password != _password(form, "repeat_password"):
        errors["repeat_password"] = _t(request, "De twee wachtwoorden zijn niet gelijk.")
    if not errors:
        api = Api(request)
        response = await api.raw(
            "POST",
            "identity",
            "/me/account-setup",
            json={"email": email, "new_password": password},
        )
        if response.status_code == 200:
            api.pass_cookies(response)
            if response.json().get("scope") == "mfa_enrolment":
                return redirect(request, "/account/tweestapsverificatie")
            return redirect(request, "/")
        if response.status_code == 409:  # already done (a second tab, a back button)
            return redirect(request, "/")
        exc = _problem(response)
        if exc.status != 422:
            raise exc
        errors = field_errors(
            language(request), exc, {"email": "email", "new_password": "new_password"}
        ) or {"form": exc.detail}
    return render(request, "account_setup.html", 422, errors=errors, values={"email": email})


# -- Mijn account ------------------------------------------------------------------------
def _account_page(
    request: Request, me: dict[str, Any], status_code: int = 200, **values: Any
) -> Response:
    values.setdefault("errors", {})
    values.setdefault("changed", False)
    return render(request, "account.html", status_code, me=me, **values)


@router.get("/account")
async def account_page(request: Request) -> Response:
    me = await Api(request).me()
    return _account_page(request, me)


@router.post("/account/wachtwoord")
async def change_password(request: Request) -> Response:
    """Identity ends every session and answers a fresh pair for this browser."""
    form = await form_of(request)
    api = Api(request)
    me = await api.me()
    current = _password(form, "current_password")
    new = _password(form, "new_password")
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = _t(request, "Vul uw huidige wachtwoord in.")
    if not new:
        errors["new_password"] = _t(request, "Kies een wachtwoord.")
    elif new != _password(form, "repeat_password"):
        errors["repeat_password"] = _t(request, "De twee wachtwoorden zijn niet gelijk.")
    if not errors:
        response = await api.raw(
            "POST",
            "identity",
            "/me/password",
            json={"current_password": current, "new_password": new},
        )
        if response.status_code == 200:
            api.pass_cookies(response)
            return _account_page(request, me, changed=True)
        exc = _problem(response)
        if exc.status == 429:
            errors = {
                "form": _t(request, "Te veel pogingen. Probeer het over een paar minuten opnieuw.")
            }
        elif exc.status == 422:
            errors = field_errors(
                language(request),
                exc,
                {"current_password": "current_password", "new_password": "new_password"},
            ) or {"form": exc.detail}
            if "current_password" in errors:
                errors["current_password"] = _t(request, "Dit is niet uw huidige wachtwoord.")
        else:
            raise exc
    return _account_page(request, me, 422, errors=errors)


@router.get("/account/mijn-gegevens.json")
async def export(request: Request) -> Response:
    """Everything identity holds on the person, as a JSON download (AVG art. 15/20)."""
    response = await Api(request).raw("GET", "identity", "/me/export")
    if response.status_code >= 400:
        raise _problem(response)
    return Response(
        response.content,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="bibliotheekmonitor-mijn-gegevens.json"',
            "Cache-Control": "no-store",
        },
    )


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
