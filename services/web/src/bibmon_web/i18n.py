"""Dutch pages with English switchable: Dutch source texts, an English catalogue, babel.

Templates write the Dutch text itself (`{{ _("Inloggen") }}`); English comes from
`bibmon_web.messages_en.EN`. A Dutch text without an English entry shows in Dutch, and
a test lists such texts so none is forgotten.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal

from bibmon_web.messages_en import EN

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LANG_COOKIE = "bibmon_lang"
TIMEZONE = ZoneInfo("Europe/Amsterdam")


def translate(lang: str, text: str, **values: Any) -> str:
    """The text in the page's language, with `{name}` placeholders filled."""
    out = EN.get(text, text) if lang == "en" else text
    return out.format(**values) if values else out


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def format_date(lang: str, value: datetime | date | str | None) -> str:
    """29 november 2026 / 29 November 2026 (dates of datetimes in Dutch time)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return babel_date(value, "long", locale=lang)
    moment = _as_datetime(value)
    if moment is None:
        return ""
    return babel_date(moment.astimezone(TIMEZONE).date(), "long", locale=lang)


def format_datetime(lang: str, value: datetime | str | None) -> str:
    """29 november 2026 om 14:05 (Dutch time)."""
    moment = _as_datetime(value)
    if moment is None:
        return ""
    pattern = "d MMMM y 'om' HH:mm" if lang == "nl" else "d MMMM y 'at' HH:mm"
    return babel_datetime(moment, pattern, tzinfo=TIMEZONE, locale=lang)


def format_time(lang: str, value: datetime | str | None) -> str:
    moment = _as_datetime(value)
    if moment is None:
        return ""
    return babel_datetime(moment, "HH:mm", tzinfo=TIMEZONE, locale=lang)


def format_number(lang: str, value: Any) -> str:
    """1.234,5 in Dutch, 1,234.5 in English; other values as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return format_decimal(value, locale=lang, decimal_quantization=False)
