"""Render an e-mail (subject, plain text, HTML) from a named template in nl or en.

Each e-mail is four files under `templates/<locale>/`: `<name>.txt` (with a `subject`
block) and `<name>.html`, both extending the locale's `_layout`. A new e-mail (survey
invitation, reminder, receipt, report ready) is those files plus one `TEMPLATES` entry.
The survey e-mails share `templates/<locale>/_survey.{html,txt}` (the legal-basis note).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import css_inline
from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

TEMPLATES_DIR = Path(__file__).parent / "templates"
PLATFORM_NAME = "Bibliotheekmonitor"
LOCALES = ("nl", "en")
BABEL_LOCALES = {"nl": "nl_NL", "en": "en_GB"}
# Dutch public libraries are in one time zone; e-mails show local time.
DISPLAY_TZ = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class TemplateSpec:
    """What a template needs in its context; `*_url` keys must be http(s) links."""

    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    urls: frozenset[str] = field(default_factory=frozenset)


_LEGAL_BASIS = frozenset({"legal_basis", "legal_basis_name"})

TEMPLATES: dict[str, TemplateSpec] = {
    "account_request_received": TemplateSpec(optional=frozenset({"organisation_name"})),
    "account_welcome": TemplateSpec(
        required=frozenset({"set_password_url", "username", "organisation_name", "expires_hours"}),
        urls=frozenset({"set_password_url"}),
    ),
    "account_rejected": TemplateSpec(optional=frozenset({"reason"})),
    "password_reset": TemplateSpec(
        required=frozenset({"reset_url", "expires_minutes"}), urls=frozenset({"reset_url"})
    ),
    "password_changed": TemplateSpec(),
    "account_locked": TemplateSpec(
        required=frozenset({"locked_minutes"}), optional=frozenset({"locked_from_one_address"})
    ),
    "email_changed": TemplateSpec(),
    # Survey e-mails, made by the notifier itself from surveys' and responses' events.
    "survey_invitation": TemplateSpec(
        required=frozenset(
            {"survey_title", "opens_at", "closes_at", "survey_url", "mandatory"} | _LEGAL_BASIS
        ),
        optional=frozenset({"survey_description"}),
        urls=frozenset({"survey_url"}),
    ),
    "survey_reminder": TemplateSpec(
        required=frozenset(
            {"survey_title", "closes_at", "days_left", "survey_url", "mandatory"} | _LEGAL_BASIS
        ),
        urls=frozenset({"survey_url"}),
    ),
    "response_receipt": TemplateSpec(
        required=frozenset({"survey_title", "submitted_at", "survey_url"}),
        urls=frozenset({"survey_url"}),
    ),
    "response_returned": TemplateSpec(
        required=frozenset({"survey_title", "remark", "survey_url"}),
        urls=frozenset({"survey_url"}),
    ),
    # From reporting's reporting.report.ready.v1, once per organisation and survey.
    "report_ready": TemplateSpec(
        required=frozenset({"survey_title", "report_url"}),
        urls=frozenset({"report_url"}),
    ),
}


class TemplateError(ValueError):
    """The command cannot be rendered: unknown template or locale, missing or bad context."""


@dataclass(frozen=True)
class RenderedEmail:
    """The three parts of an e-mail, ready to be put into a MIME message."""

    subject: str
    text: str
    html: str
    locale: str


def normalise_locale(locale: str, default: str) -> str:
    """`nl`, `nl-NL`, `nl_BE` → `nl`; anything we have no texts for → the default."""
    language = locale.replace("_", "-").split("-")[0].strip().lower()
    return language if language in LOCALES else default


def validate(template: str, locale: str, context: Mapping[str, Any]) -> None:
    """Raise TemplateError when a command could never be rendered (checked on intake)."""
    spec = TEMPLATES.get(template)
    if spec is None:
        raise TemplateError(f"unknown template {template!r}")
    if locale not in LOCALES:
        raise TemplateError(f"unknown locale {locale!r}")
    missing = sorted(spec.required - context.keys())
    if missing:
        raise TemplateError(f"missing context for {template}: {', '.join(missing)}")
    for key in spec.urls:
        value = context.get(key)
        # Only web links: never a javascript: or data: URL in a button.
        if not isinstance(value, str) or urlsplit(value).scheme not in ("https", "http"):
            raise TemplateError(f"{key} must be an http(s) URL")


def _locale(ctx: Context) -> str:
    return BABEL_LOCALES[ctx.get("locale", "nl")]


def _as_datetime(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(DISPLAY_TZ)


@pass_context
def _datetime_filter(ctx: Context, value: datetime | str, format: str = "long") -> str:
    dt = _as_datetime(value)
    # "3 november 2026 om 14:05" / "3 November 2026 at 14:05"
    day = format_date(dt, format=format, locale=_locale(ctx))
    clock = dt.strftime("%H:%M")
    joiner = " om " if ctx.get("locale") == "nl" else " at "
    return f"{day}{joiner}{clock}"


@pass_context
def _date_filter(ctx: Context, value: date | datetime | str, format: str = "long") -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value) if len(value) == 10 else _as_datetime(value)
    if isinstance(value, datetime):
        value = _as_datetime(value)
    return format_date(value, format=format, locale=_locale(ctx))


@pass_context
def _number_filter(ctx: Context, value: int | float | Decimal | str) -> str:
    return format_decimal(value, locale=_locale(ctx))


class Renderer:
    """Renders the notifier's templates; one instance per process (templates are cached)."""

    def __init__(self, *, support_address: str, templates_dir: Path = TEMPLATES_DIR) -> None:
        self.support_address = support_address
        self.env = Environment(
            loader=FileSystemLoader(templates_dir),
            # Names and reasons come from people: escape them in HTML. Plain text is not
            # HTML, so it is not escaped.
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["datetime"] = _datetime_filter
        self.env.filters["date"] = _date_filter
        self.env.filters["number"] = _number_filter
        self._inliner = css_inline.CSSInliner(
            load_remote_stylesheets=False, keep_at_rules=True, keep_style_tags=False
        )

    def render(
        self,
        template: str,
        locale: str,
        context: Mapping[str, Any],
        *,
        recipient_name: str | None = None,
        occurred_at: datetime | None = None,
    ) -> RenderedEmail:
        """Render subject, text and inlined HTML; raises TemplateError on any problem."""
        validate(template, locale, context)
        variables: dict[str, Any] = {
            **context,
            "locale": locale,
            "platform_name": PLATFORM_NAME,
            "support_address": self.support_address,
            "recipient_name": recipient_name,
            "occurred_at": occurred_at or datetime.now(UTC),
        }
        try:
            text_tmpl = self.env.get_template(f"{locale}/{template}.txt")
            subject = " ".join(
                "".join(text_tmpl.blocks["subject"](text_tmpl.new_context(variables))).split()
            )
            text = text_tmpl.render(variables).strip() + "\n"
            html = self.env.get_template(f"{locale}/{template}.html").render(
                {**variables, "subject": subject}
            )
        except TemplateError:
            raise
        except Exception as exc:  # jinja2's UndefinedError, TemplateNotFound, filter errors
            raise TemplateError(f"{template}/{locale}: {type(exc).__name__}: {exc}") from exc
        return RenderedEmail(
            subject=subject, text=text, html=self._inliner.inline(html), locale=locale
        )
