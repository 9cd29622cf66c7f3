"""Rendering pages: Jinja2 (autoescape, StrictUndefined) with language, CSRF and session."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData

from bibmon_common.organisations import size_class_group_name
from bibmon_web import csrf, i18n
from bibmon_web.client import ACCESS_COOKIES, REFRESH_COOKIES, cookie
from bibmon_web.config import WebSettings

TEMPLATES = Path(__file__).parent / "templates"


def make_environment() -> Environment:
    """Autoescaping everywhere; an undefined name is an error, never an empty string."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class CsrfFailed(Exception):
    """A form without the browser's CSRF token."""


def language(request: Request) -> str:
    lang = request.cookies.get(i18n.LANG_COOKIE, i18n.DEFAULT_LANGUAGE)
    return lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site (never `//host` or a scheme) is a place to go back to."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def group_name(lang: str, group: dict[str, Any]) -> str:
    """A comparison group's name as reports and infographics give it: the size class
    "middelgroot" is "Middelgrote bibliotheken"; Nederland and provinces as they are."""
    if group.get("kind") == "size_class":
        return size_class_group_name(str(group["label"]), lang) or str(group["label"])
    return str(group["label"])


def context(request: Request, **values: Any) -> dict[str, Any]:
    lang = language(request)
    settings = settings_of(request)
    path = request.url.path
    if request.url.query:
        path = f"{path}?{request.url.query}"
    return {
        "request": request,
        "lang": lang,
        "_": partial(i18n.translate, lang),
        "fmt_date": partial(i18n.format_date, lang),
        "fmt_datetime": partial(i18n.format_datetime, lang),
        "fmt_time": partial(i18n.format_time, lang),
        "fmt_number": partial(i18n.format_number, lang),
        "group_name": partial(group_name, lang),
        "csrf_field": csrf.CSRF_FIELD,
        "csrf_token": csrf.token_for(request),
        "support_email": settings.support_email,
        "logged_in": bool(cookie(request, ACCESS_COOKIES) or cookie(request, REFRESH_COOKIES)),
        "me": getattr(request.state, "me", None),
        "current_path": path,
        "current_path_quoted": quote(path, safe=""),
        "page_title": "",
        **values,
    }


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page (or, for htmx, a fragment template) in the person's language."""
    env: Environment = request.app.state.templates
    html = env.get_template(template).render(context(request, **values))
    return HTMLResponse(html, status_code=status_code, headers=headers)


def redirect(request: Request, url: str) -> Response:
    """303 See Other; for htmx a full-page navigation (HX-Redirect)."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


async def form_of(request: Request) -> FormData:
    """The posted form, after checking its CSRF token."""
    form = await request.form()
    if not csrf.valid(request, form.get(csrf.CSRF_FIELD), settings_of(request).secure_cookies):
        raise CsrfFailed
    return form


def text(form: FormData, name: str) -> str:
    """A text field, stripped ('' when absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
