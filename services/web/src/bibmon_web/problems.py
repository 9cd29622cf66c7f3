"""The APIs' problem+json answers as Dutch (or English) messages, field by field."""

from __future__ import annotations

import re
from typing import Any

from bibmon_web.client import ApiError
from bibmon_web.i18n import translate

# Error `type`s of the APIs → Dutch source texts (English in messages_en).
MESSAGES = {
    "too_long": "Dit wachtwoord is te lang.",
    "too_short": "Gebruik minstens {n} tekens.",
    "common": "Dit wachtwoord komt te vaak voor; kies een ander.",
    "predictable": "Dit wachtwoord is een herhaling of reeks; kies een ander.",
    "context": "Dit wachtwoord lijkt te veel op uw naam, gebruikersnaam, organisatie of dit "
    "platform; kies een ander.",
    "token_invalid": "Deze link is ongeldig, al gebruikt of verlopen. Vraag een nieuwe aan via "
    "‘Wachtwoord vergeten’.",
    "code_required": "Vul een actuele code uit uw authenticator-app in (of een herstelcode).",
    "missing": "Vul dit veld in.",
    "value_error": "Deze waarde klopt niet.",
    "string_too_short": "Vul dit veld in.",
    "string_too_long": "Deze tekst is te lang.",
}


def message_for(lang: str, error: dict[str, Any]) -> str:
    """One field error in the page's language (the API's own text when we have none)."""
    kind = str(error.get("type") or "")
    text = str(error.get("message") or "")
    if lang == "nl" and not kind and text:
        return text
    if kind in MESSAGES:
        n = re.search(r"\d+", text)
        return translate(lang, MESSAGES[kind], n=n.group(0) if n else "")
    if lang == "en" and error.get("message_en"):
        return str(error["message_en"])
    return text or translate(lang, "Deze waarde klopt niet.")


def field_errors(lang: str, exc: ApiError, fields: dict[str, str]) -> dict[str, str]:
    """{form field: message} from a 422's errors[]; API field names mapped by `fields`."""
    out: dict[str, str] = {}
    for error in exc.errors:
        api_field = str(error.get("field") or "").removeprefix("body.")
        name = fields.get(api_field)
        if name and name not in out:
            out[name] = message_for(lang, error)
    return out
