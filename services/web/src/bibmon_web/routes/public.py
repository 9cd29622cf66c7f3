"""Pages for anyone: start, login (with TOTP), logout, passwords, account request, FAQ."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bibmon_web import i18n
from bibmon_web.client import Api, ApiError
from bibmon_web.pages import form_of, language, redirect, render, safe_next, settings_of, text
from bibmon_web.problems import field_errors
from bibmon_web.routes.questionnaires import STATUS_LABELS, open_questionnaires
from bibmon_web.routes.reports import closed_surveys

router = APIRouter(include_in_schema=False)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_\-]+)")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{16,512}$")


def _t(request: Request, text_: str, **values: Any) -> str:
    return i18n.translate(language(request), text_, **values)


@router.get("/taal/{lang}")
async def switch_language(lang: str, request: Request, terug: str = "/") -> Response:
    """Remember the chosen language (a plain link: works without JavaScript)."""
    response = RedirectResponse(safe_next(terug), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(
            i18n.LANG_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            path="/",
            secure=settings_of(request).secure_cookies,
            httponly=True,
            samesite="lax",
        )
    return response


@router.get("/")
async def start(request: Request) -> Response:
    """The start page; the login page when nobody is logged in."""
    api = Api(request)
    if not api.has_session:
        return redirect(request, "/inloggen")
    me = await api.me()
    surveys: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    if me.get("organisation_id"):
        surveys, reports = await asyncio.gather(open_questionnaires(api, me), closed_surveys(api))
    return render(
        request,
        "start.html",
        me=me,
        surveys=surveys,
        reports=reports,
        status_labels=STATUS_LABELS,
    )


# -- login -------------------------------------------------------------------------------
@router.get("/inloggen")
async def login_page(request: Request, terug: str = "/", uitgelogd: str = "") -> Response:
    return render(
        request,
        "login.html",
        terug=safe_next(terug),
        errors={},
        values={},
        notice="logged_out" if uitgelogd else "",
    )


async def _logged_in(request: Request, api: Api, body: dict[str, Any], terug: str) -> Response:
    """Tokens received: the session cookies go to the browser; on to the next page."""
    if body.get("scope") == "account_setup":
        return redirect(request, "/account/instellen")
    if body.get("scope") == "mfa_enrolment":
        return redirect(request, "/account/tweestapsverificatie")
    return redirect(request, safe_next(terug))


@router.post("/inloggen")
async def login(request: Request) -> Response:
    form = await form_of(request)
    terug = safe_next(text(form, "terug"))
    username = text(form, "username")
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = _t(request, "Vul uw gebruikersnaam in.")
    if not password:
        errors["password"] = _t(request, "Vul uw wachtwoord in.")
    if errors:
        return render(
            request, "login.html", 422, terug=terug, errors=errors, values=form, notice=""
        )
    api = Api(request)
    response = await api.raw(
        "POST",
        "identity",
        "/auth/login",
        authenticated=False,
        json={"username": username, "password": password},
    )
    if response.status_code == 200:
        body = response.json()
        if body.get("mfa_required"):
            return render(
                request, "login_code.html", mfa_token=body["mfa_token"], terug=terug, error=""
            )
        api.pass_cookies(response)
        return await _logged_in(request, api, body, terug)
    if response.status_code == 429:
        message = _t(request, "Te veel pogingen. Probeer het over een paar minuten opnieuw.")
    else:
        message = _t(request, "De gebruikersnaam of het wachtwoord klopt niet.")
    return render(
        request,
        "login.html",
        response.status_code if response.status_code in (401, 429) else 400,
        terug=terug,
        errors={"form": message},
        values={"username": username},
        notice="",
    )


@router.post("/inloggen/code")
async def login_code(request: Request) -> Response:
    form = await form_of(request)
    terug = safe_next(text(form, "terug"))
    mfa_token = text(form, "mfa_token")
    code = text(form, "code").replace(" ", "")
    if not code:
        return render(
            request,
            "login_code.html",
            422,
            mfa_token=mfa_token,
            terug=terug,
            error=_t(request, "Vul de code uit uw authenticator-app in."),
        )
    api = Api(request)
    response = await api.raw(
        "POST",
        "identity",
        "/auth/login/mfa",
        authenticated=False,
        json={"mfa_token": mfa_token, "code": code},
    )
    if response.status_code == 200:
        api.pass_cookies(response)
        return await _logged_in(request, api, response.json(), terug)
    try:
        kind = str(response.json().get("type", ""))
    except ValueError:
        kind = ""
    if response.status_code == 429 or "session" in kind or "expired" in kind:
        # Too many wrong codes, or the step took too long: start over.
        return render(
            request,
            "login.html",
            response.status_code,
            terug=terug,
            errors={"form": _t(request, "Log opnieuw in: de tweede stap is verlopen.")},
            values={},
            notice="",
        )
    return render(
        request,
        "login_code.html",
        401,
        mfa_token=mfa_token,
        terug=terug,
        error=_t(request, "Deze code klopt niet. Probeer de code die uw app nu toont."),
    )


@router.post("/uitloggen")
async def logout(request: Request) -> Response:
    await form_of(request)
    api = Api(request)
    response = await api.raw(
        "POST",
        "identity",
        "/auth/logout",
        authenticated=False,
        json={"refresh_token": api.refresh_token} if api.refresh_token else None,
    )
    api.pass_cookies(response)
    return redirect(request, "/inloggen?uitgelogd=1")


# -- passwords ---------------------------------------------------------------------------
@router.get("/wachtwoord-vergeten")
async def password_forgotten_page(request: Request) -> Response:
    return render(request, "password_forgotten.html", errors={}, values={}, sent=False)


@router.post("/wachtwoord-vergeten")
async def password_forgotten(request: Request) -> Response:
    form = await form_of(request)
    username, email = text(form, "username"), text(form, "email")
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = _t(request, "Vul uw gebruikersnaam in.")
    if not EMAIL_RE.match(email):
        errors["email"] = _t(request, "Vul een e-mailadres in, zoals naam@bibliotheek.nl.")
    if errors:
        return render(
            request, "password_forgotten.html", 422, errors=errors, values=form, sent=False
        )
    await Api(request).call(
        "POST",
        "identity",
        "/auth/password-forgotten",
        authenticated=False,
        json={"username": username, "email": email},
    )
    return render(request, "password_forgotten.html", errors={}, values={}, sent=True)


def _password_page(request: Request, purpose: str, status_code: int = 200, **values: Any) -> Any:
    values.setdefault("errors", {})
    values.setdefault("token", "")
    values.setdefault("done", False)
    return render(request, "password_set.html", status_code, purpose=purpose, **values)


@router.get("/wachtwoord-instellen")
async def password_set_page(request: Request) -> Response:
    return _password_page(request, "instellen")


@router.get("/wachtwoord-herstellen")
async def password_reset_page(request: Request) -> Response:
    return _password_page(request, "herstellen")


def token_from(value: str) -> str:
    """The token itself, also when the person pasted the whole link from the e-mail."""
    match = TOKEN_IN_LINK.search(value)
    return match.group(1) if match else value.strip()


@router.post("/wachtwoord-instellen")
@router.post("/wachtwoord-herstellen")
async def password_set(request: Request) -> Response:
    purpose = "herstellen" if request.url.path.endswith("herstellen") else "instellen"
    form = await form_of(request)
    token = token_from(text(form, "token"))
    password = form.get("new_password")
    password = password if isinstance(password, str) else ""
    repeat = form.get("repeat_password")
    code = text(form, "code").replace(" ", "")
    errors: dict[str, str] = {}
    if not TOKEN_RE.match(token):
        errors["token"] = _t(
            request, "Plak hier de hele link uit de e-mail (met het deel na #token=)."
        )
    if not password:
        errors["new_password"] = _t(request, "Kies een wachtwoord.")
    elif password != repeat:
        errors["repeat_password"] = _t(request, "De twee wachtwoorden zijn niet gelijk.")
    if not errors:
        body: dict[str, Any] = {"token": token, "new_password": password}
        if code:
            body["code"] = code
        try:
            await Api(request).call(
                "POST", "identity", "/auth/password-reset", authenticated=False, json=body
            )
        except ApiError as exc:
            if exc.status != 422:
                raise
            errors = field_errors(
                language(request),
                exc,
                {"token": "token", "new_password": "new_password", "code": "code"},
            )
            if not errors:
                errors["form"] = exc.detail
        else:
            return _password_page(request, purpose, done=True)
    return _password_page(
        request, purpose, 422, errors=errors, token=token, show_code="code" in errors
    )


# -- account request ---------------------------------------------------------------------
async def organisations(api: Api) -> list[dict[str, Any]]:
    """Every library organisation (public master data), by name."""
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = await api.get(
            "identity",
            "/organisations",
            authenticated=False,
            params={"limit": 500, "offset": offset},
        )
        items.extend(page["items"])
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            break
    return sorted(items, key=lambda o: str(o["name"]).lower())


@router.get("/account-aanvragen")
async def account_request_page(request: Request) -> Response:
    orgs = await organisations(Api(request))
    return render(
        request,
        "account_request.html",
        organisations=orgs,
        errors={},
        values={},
        suggestions=[],
        done=False,
    )


@router.post("/account-aanvragen")
async def account_request(request: Request) -> Response:
    form = await form_of(request)
    api = Api(request)
    orgs = await organisations(api)
    name, email, message = text(form, "name"), text(form, "email"), text(form, "message")
    org_text = text(form, "organisation")
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _t(request, "Vul uw naam in.")
    if not EMAIL_RE.match(email):
        errors["email"] = _t(request, "Vul een e-mailadres in, zoals naam@bibliotheek.nl.")
    by_name = {str(o["name"]).casefold(): o for o in orgs}
    by_id = {str(o["id"]): o for o in orgs}
    chosen = by_id.get(text(form, "organisation_id")) or by_name.get(org_text.casefold())
    suggestions: list[dict[str, Any]] = []
    if chosen is None:
        needle = org_text.casefold()
        suggestions = [o for o in orgs if needle and needle in str(o["name"]).casefold()][:20]
        errors["organisation"] = (
            _t(request, "Kies uw bibliotheek hieronder.")
            if suggestions
            else _t(request, "Kies de naam van uw bibliotheek uit de lijst.")
        )
    if not errors and chosen is not None:
        try:
            await api.call(
                "POST",
                "identity",
                "/account-requests",
                authenticated=False,
                json={
                    "name": name,
                    "email": email,
                    "organisation_id": str(chosen["id"]),
                    "message": message,
                },
            )
        except ApiError as exc:
            if exc.status != 422:
                raise
            errors = field_errors(
                language(request),
                exc,
                {"name": "name", "email": "email", "message": "message"},
            ) or {"form": exc.detail}
        else:
            return render(
                request,
                "account_request.html",
                organisations=orgs,
                errors={},
                values={"organisation": chosen["name"]},
                suggestions=[],
                done=True,
            )
    return render(
        request,
        "account_request.html",
        422,
        organisations=orgs,
        errors=errors,
        values=form,
        suggestions=suggestions,
        done=False,
    )


@router.get("/veelgestelde-vragen")
async def faq(request: Request) -> Response:
    return render(request, f"faq_{language(request)}.html")


def login_url(path: str) -> str:
    return f"/inloggen?terug={quote(path, safe='')}"
