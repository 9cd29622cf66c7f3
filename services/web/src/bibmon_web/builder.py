"""The questionnaire builder's forms: parsing them, one change to a questionnaire, errors.

The builder keeps no state of its own: every change reads the survey from the surveys
API, changes its questionnaire (plain JSON, as the API gives it) in one place and sends
the whole questionnaire back. The surveys API checks it (bibmon_common.questionnaire);
its field errors come back here to be put beside the form field they are about.

Pure functions only, so every rule has a unit test (services/web/tests/test_builder.py).
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import FormData

from bibmon_common.questionnaire import CHOICE_TYPES, NUMERIC_TYPES
from bibmon_web.i18n import TIMEZONE, translate

QUESTION_TYPES: dict[str, str] = {
    "integer": "Geheel getal",
    "decimal": "Getal met decimalen",
    "percentage": "Percentage",
    "amount": "Bedrag in euro",
    "yes_no": "Ja/nee",
    "single_choice": "Eén keuze uit opties",
    "multiple_choice": "Meer keuzes uit opties",
    "short_text": "Korte tekst",
    "long_text": "Lange tekst",
    "date": "Datum",
}
PUBLICATION: dict[str, str] = {
    "": "Standaard (getallen, keuzes en datums openbaar; vrije tekst nooit)",
    "public": "Openbaar: in de open data",
    "internal": "Intern: alleen in de vergelijkingen",
    "never": "Nooit: blijft bij de antwoorden",
}
SURVEY_STATUS: dict[str, str] = {
    "draft": "Concept",
    "scheduled": "Gepland",
    "open": "Open",
    "closed": "Gesloten",
}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
SURVEY_FIELDS = (
    "title",
    "description",
    "mandatory",
    "legal_basis",
    "legal_basis_name",
    "opens_at",
    "closes_at",
    "series_key",
)
EDITABLE_AFTER_PUBLISH = ("title", "description", "closes_at")


@dataclass
class Parsed:
    """What a form asks for, and the fields it could not read (Dutch source texts)."""

    body: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _texts(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


# -- values ------------------------------------------------------------------------------
def parse_local_datetime(raw: str) -> datetime | None:
    """A `datetime-local` value (or `jjjj-mm-dd uu:mm`, or a date) in Dutch time, aware."""
    text = raw.strip().replace(" ", "T", 1)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text += "T00:00"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", text):
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=TIMEZONE)
    except ValueError:
        return None


def local_input(value: str | datetime | None) -> str:
    """An API time as the value of a `datetime-local` field (Dutch time)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(TIMEZONE).strftime("%Y-%m-%dT%H:%M")


def parse_decimal(raw: str) -> float | int | None:
    """A number typed the Dutch way ("1.234,5", "12,5", "-3") or the English way ("12.5")."""
    text = raw.replace(" ", "").replace("\u00a0", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3})+", text):
        text = text.replace(".", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def number_text(value: float | int | None) -> str:
    """A bound as the form shows it: 12,5 and 10 (not 10.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return format(Decimal(str(value)), "f").replace(".", ",")


def slug(label: str) -> str:
    """A stable option value or key from a label: "Meer dan 10%" → "meer_dan_10"."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    if not text:
        return ""
    if not text[0].isalpha():
        text = f"o_{text}"
    return text[:64].rstrip("_")


def parse_options(raw: str) -> list[dict[str, str]]:
    """One option a line: `waarde | label`, or only the label (its value made from it)."""
    options = []
    for line in raw.splitlines():
        line = line.strip()
        if not line:
            continue
        if "|" in line:
            value, label = (part.strip() for part in line.split("|", 1))
        else:
            value, label = slug(line), line
        options.append({"value": value, "label": label})
    return options


def options_text(options: list[dict[str, Any]]) -> str:
    return "\n".join(f"{o['value']} | {o['label']}" for o in options)


def condition_value(parent: dict[str, Any], raw: str) -> Any:
    """The `show_if.equals` of a typed value, in the type of the question it refers to."""
    text = raw.strip()
    kind = parent["type"]
    if kind == "yes_no":
        return {
            "ja": True,
            "nee": False,
            "yes": True,
            "no": False,
            "true": True,
            "false": False,
        }.get(text.lower(), text)
    if kind in NUMERIC_TYPES:
        number = parse_decimal(text)
        return text if number is None else number
    if kind in CHOICE_TYPES:
        for option in parent.get("options", []):
            if text in (option["value"], option["label"]):
                return option["value"]
    return text


def condition_text(parent: dict[str, Any] | None, value: Any) -> str:
    if parent is None or value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, int | float):
        return number_text(value)
    return str(value)


# -- forms -------------------------------------------------------------------------------
def parse_survey_form(form: FormData, *, published: bool) -> Parsed:
    """The survey's facts; after publishing only the fields that may still change."""
    out = Parsed()
    out.body["title"] = _text(form, "title")
    out.body["description"] = _text(form, "description")
    for name in ("opens_at", "closes_at"):
        if published and name == "opens_at":
            continue
        raw = _text(form, name)
        moment = parse_local_datetime(raw) if raw else None
        if moment is None:
            out.errors[name] = (
                "Vul een datum en tijd in, bijvoorbeeld 2027-01-31 17:00."
                if raw
                else "Vul een datum en tijd in."
            )
        else:
            out.body[name] = moment.isoformat()
    if published:
        return out
    mandatory = _text(form, "mandatory") == "ja"
    basis = _text(form, "legal_basis")
    out.body["mandatory"] = mandatory
    # A voluntary survey has no legal basis, and only a subsidy scheme has a name: what
    # the form still holds for them after a change of mind is left out.
    out.body["legal_basis"] = basis if mandatory and basis in ("wsob", "subsidy") else None
    name_text = _text(form, "legal_basis_name")
    out.body["legal_basis_name"] = (
        name_text if mandatory and basis == "subsidy" and name_text else None
    )
    out.body["series_key"] = _text(form, "series_key") or None
    return out


def parse_participants_form(form: FormData) -> Parsed:
    """All organisations, a chosen list, or a filter on provinces and size classes."""
    mode = _text(form, "participants_mode")
    out = Parsed()
    if mode == "all":
        out.body["participants"] = {"mode": "all"}
    elif mode == "filter":
        out.body["participants"] = {
            "mode": "filter",
            "provinces": _texts(form, "provinces"),
            "size_classes": _texts(form, "size_classes"),
        }
    elif mode == "list":
        out.body["participants"] = {
            "mode": "list",
            "organisation_ids": _texts(form, "organisation_ids"),
        }
    else:
        out.errors["participants_mode"] = "Kies wie er meedoen."
    return out


def parse_question_form(form: FormData, key: str, earlier: list[dict[str, Any]]) -> Parsed:
    """One question from its edit form; only the settings its type has are kept."""
    out = Parsed()
    kind = _text(form, "type")
    if kind not in QUESTION_TYPES:
        out.errors["type"] = "Kies een soort vraag."
        kind = "short_text"
    question: dict[str, Any] = {
        "key": key,
        "type": kind,
        "label": _text(form, "label"),
        "help": _text(form, "help"),
        "required": _text(form, "required") == "ja",
        "min": None,
        "max": None,
        "unit": "",
        "options": [],
        "show_if": None,
        "publication": _text(form, "publication") or None,
        "per_inhabitant": False,
    }
    if question["publication"] not in (None, "public", "internal", "never"):
        out.errors["publication"] = "Kies een van de mogelijkheden."
    if kind in NUMERIC_TYPES:
        for bound in ("min", "max"):
            raw = _text(form, bound)
            if raw:
                number = parse_decimal(raw)
                if number is None:
                    out.errors[bound] = "Vul een getal in, bijvoorbeeld 12,5."
                else:
                    question[bound] = number
        question["per_inhabitant"] = _text(form, "per_inhabitant") == "ja"
        if kind in ("integer", "decimal"):
            question["unit"] = _text(form, "unit")
    if kind in CHOICE_TYPES:
        raw_options = form.get("options")
        question["options"] = parse_options(raw_options if isinstance(raw_options, str) else "")
        if not question["options"]:
            out.errors["options"] = "Een keuzevraag heeft minstens één optie nodig."
    parent_key = _text(form, "show_if_question")
    if parent_key:
        parent = next((q for q in earlier if q["key"] == parent_key), None)
        raw = _text(form, "show_if_equals")
        if parent is None:
            out.errors["show_if_question"] = "Een voorwaarde moet verwijzen naar een eerdere vraag."
        elif not raw:
            out.errors["show_if_equals"] = "Vul het antwoord in waarbij deze vraag verschijnt."
        else:
            question["show_if"] = {"question": parent_key, "equals": condition_value(parent, raw)}
    out.body = question
    return out


def parse_new_question(form: FormData, prefix: str = "") -> Parsed:
    """Key, type and label of a question to add (the rest is set on its own page)."""
    out = Parsed()
    label = _text(form, f"{prefix}label")
    key = _text(form, f"{prefix}key") or slug(label)
    kind = _text(form, f"{prefix}type")
    if kind not in QUESTION_TYPES:
        out.errors[f"{prefix}type"] = "Kies een soort vraag."
    if not KEY_RE.match(key):
        out.errors[f"{prefix}key"] = KEY_HELP
    question: dict[str, Any] = {"key": key, "type": kind, "label": label}
    if kind in CHOICE_TYPES:
        # A choice question needs options to be valid: two to start from, renamed later.
        question["options"] = [
            {"value": "optie_1", "label": "Optie 1"},
            {"value": "optie_2", "label": "Optie 2"},
        ]
    out.body = question
    return out


KEY_HELP = "Gebruik kleine letters, cijfers en _, en begin met een letter (hoogstens 64 tekens)."


# -- changes to a questionnaire ----------------------------------------------------------
class NotFound(Exception):
    """The section or question the form names is not (or no longer) in the questionnaire."""


def empty() -> dict[str, Any]:
    return {"sections": [], "key_figures": []}


def locate(questionnaire: dict[str, Any], key: str) -> tuple[int, int]:
    """(section index, question index) of a question."""
    for i, section in enumerate(questionnaire["sections"]):
        for j, question in enumerate(section["questions"]):
            if question["key"] == key:
                return i, j
    raise NotFound(key)


def section_index(questionnaire: dict[str, Any], key: str) -> int:
    for i, section in enumerate(questionnaire["sections"]):
        if section["key"] == key:
            return i
    raise NotFound(key)


def questions_before(questionnaire: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The questions a condition of `key` may refer to (those that come before it)."""
    out: list[dict[str, Any]] = []
    for section in questionnaire["sections"]:
        for question in section["questions"]:
            if question["key"] == key:
                return out
            out.append(question)
    return out


def add_section(
    questionnaire: dict[str, Any] | None, section: dict[str, Any], first: dict[str, Any]
) -> dict[str, Any]:
    """A new last section with its first question (a section never is empty)."""
    out = copy.deepcopy(questionnaire) if questionnaire else empty()
    out["sections"].append({**section, "questions": [first]})
    return out


def update_section(
    questionnaire: dict[str, Any], key: str, title: str, description: str
) -> dict[str, Any]:
    out = copy.deepcopy(questionnaire)
    section = out["sections"][section_index(out, key)]
    section["title"] = title
    section["description"] = description
    return out


def delete_section(questionnaire: dict[str, Any], key: str) -> dict[str, Any]:
    out = copy.deepcopy(questionnaire)
    removed = out["sections"].pop(section_index(out, key))
    gone = {q["key"] for q in removed["questions"]}
    out["key_figures"] = [k for k in out.get("key_figures", []) if k not in gone]
    return out


def move_section(questionnaire: dict[str, Any], key: str, step: int) -> dict[str, Any]:
    out = copy.deepcopy(questionnaire)
    i = section_index(out, key)
    j = max(0, min(len(out["sections"]) - 1, i + step))
    out["sections"].insert(j, out["sections"].pop(i))
    return out


def add_question(
    questionnaire: dict[str, Any], section_key: str, question: dict[str, Any]
) -> dict[str, Any]:
    out = copy.deepcopy(questionnaire)
    out["sections"][section_index(out, section_key)]["questions"].append(question)
    return out


def update_question(
    questionnaire: dict[str, Any], key: str, question: dict[str, Any]
) -> dict[str, Any]:
    out = copy.deepcopy(questionnaire)
    i, j = locate(out, key)
    out["sections"][i]["questions"][j] = question
    if question["type"] not in NUMERIC_TYPES:
        out["key_figures"] = [k for k in out.get("key_figures", []) if k != key]
    return out


def delete_question(questionnaire: dict[str, Any], key: str) -> dict[str, Any]:
    """Without the question (and its section, if it was the last one there)."""
    out = copy.deepcopy(questionnaire)
    i, j = locate(out, key)
    del out["sections"][i]["questions"][j]
    if not out["sections"][i]["questions"]:
        del out["sections"][i]
    out["key_figures"] = [k for k in out.get("key_figures", []) if k != key]
    return out


def move_question(questionnaire: dict[str, Any], key: str, step: int) -> dict[str, Any]:
    """One place up or down within its section."""
    out = copy.deepcopy(questionnaire)
    i, j = locate(out, key)
    questions = out["sections"][i]["questions"]
    k = max(0, min(len(questions) - 1, j + step))
    questions.insert(k, questions.pop(j))
    return out


def set_key_figures(questionnaire: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """The chosen key figures in questionnaire order."""
    out = copy.deepcopy(questionnaire)
    order = [q["key"] for s in out["sections"] for q in s["questions"]]
    chosen = set(keys)
    out["key_figures"] = [k for k in order if k in chosen] + [k for k in keys if k not in order]
    return out


def without_empty_questionnaire(questionnaire: dict[str, Any]) -> dict[str, Any] | None:
    """A questionnaire without sections is none at all (the API needs at least one)."""
    return questionnaire if questionnaire["sections"] else None


# -- the API's field errors --------------------------------------------------------------
# The surveys API answers in English; the page shows these Dutch texts (English in
# messages_en). Patterns on the API's message first, then its error type per field.
API_MESSAGES: list[tuple[str, str]] = [
    (r"a choice question needs options", "Een keuzevraag heeft minstens één optie nodig."),
    (r"option values must be unique", "Elke optie heeft een eigen waarde nodig."),
    (r"only choice questions have options", "Alleen keuzevragen hebben opties."),
    (r"min and max apply to numeric", "Een minimum en maximum horen alleen bij getallen."),
    (r"min and max must be finite", "Vul een getal in, bijvoorbeeld 12,5."),
    (r"min is greater than max", "Het minimum is groter dan het maximum."),
    (r"per_inhabitant applies", "Per 1.000 inwoners kan alleen bij getallen."),
    (r"is used twice", "Deze sleutel wordt al door een andere vraag gebruikt."),
    (r"show_if must name an earlier", "Een voorwaarde moet verwijzen naar een eerdere vraag."),
    (
        r"show_if value does not fit",
        "Dit antwoord past niet bij de vraag van de voorwaarde.",
    ),
    (r"section keys must be unique", "Deze sleutel wordt al door een ander onderdeel gebruikt."),
    (r"key_figures must not name", "Kies elk kerncijfer één keer."),
    (r"key figure .* must name a numeric", "Een kerncijfer moet een getalvraag zijn."),
    (
        r"keeps its key and type",
        "Deze sleutel hoorde eerder bij een vraag van een ander soort; geef deze vraag een "
        "nieuwe sleutel.",
    ),
]
API_TYPES: dict[tuple[str, str], str] = {
    ("legal_basis", "required"): "Een verplicht onderzoek heeft een grondslag nodig.",
    ("legal_basis_name", "required"): "Noem de subsidieregeling.",
    ("legal_basis_name", "not_allowed"): "Alleen een subsidieregeling heeft een naam.",
    ("legal_basis", "not_allowed"): "Een vrijwillig onderzoek heeft geen grondslag.",
    ("questionnaire", "required"): "Voeg eerst een vragenlijst toe.",
}
API_CODES: dict[str, str] = {
    "out_of_range": "Kies een datum tussen 2000 en 2100.",
    "before_opens_at": "Het onderzoek moet sluiten nadat het opent.",
    "in_the_past": "Kies een sluitingsmoment in de toekomst.",
    "frozen": "Dit ligt vast sinds de publicatie.",
    "no_participants": "Er doet nog geen bibliotheek mee; kies er minstens één.",
    "empty_filter": "Kies minstens één provincie of grootteklasse, of ‘alle bibliotheken’.",
    "unknown_organisation": "Deze bibliotheek is onbekend.",
    "unknown_province": "Deze provincie is onbekend.",
    "null": "Vul dit veld in.",
    "missing": "Vul dit veld in.",
    "string_too_short": "Vul dit veld in.",
    "too_short": "Vul dit veld in.",
    "string_too_long": "Deze tekst is te lang.",
    "string_pattern_mismatch": KEY_HELP,
    "literal_error": "Kies een van de mogelijkheden.",
    "float_parsing": "Vul een getal in, bijvoorbeeld 12,5.",
}


def api_message(lang: str, error: dict[str, Any]) -> str:
    """One API field error as the page shows it."""
    message = str(error.get("message") or "")
    kind = str(error.get("type") or "")
    name = str(error.get("field") or "").split(".")[-1]
    for pattern, dutch in API_MESSAGES:
        if re.search(pattern, message):
            return translate(lang, dutch)
    if (name, kind) in API_TYPES:
        return translate(lang, API_TYPES[(name, kind)])
    if kind == "string_pattern_mismatch" and name == "series_key":
        return translate(lang, "Gebruik kleine letters, cijfers en streepjes.")
    if kind in API_CODES:
        return translate(lang, API_CODES[kind])
    return translate(lang, "Deze waarde klopt niet.") + (f" ({message})" if message else "")


# Fields of a question's form by the API's name for them (and for parts of them).
QUESTION_FIELDS = {
    "key": "key",
    "type": "type",
    "label": "label",
    "help": "help",
    "min": "min",
    "max": "max",
    "unit": "unit",
    "options": "options",
    "show_if": "show_if_question",
    "publication": "publication",
    "per_inhabitant": "per_inhabitant",
}
_FIELD_HINTS = [
    ("option", "options"),
    ("min", "min"),
    ("max", "max"),
    ("per_inhabitant", "per_inhabitant"),
    ("show_if", "show_if_equals"),
    ("used twice", "key"),
    ("keeps its key", "key"),
]


def meaningful(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without pydantic's echo of an invalid item: a list that is "too short" because the
    item in it failed (`questionnaire.sections`, `….questions`) when that item has its own
    error."""
    echoes = [
        e
        for e in errors
        if e.get("type") == "too_short"
        and str(e.get("field") or "").endswith((".sections", ".questions"))
    ]
    return [e for e in errors if e not in echoes] or errors


def question_errors(
    lang: str, errors: list[dict[str, Any]], questionnaire: dict[str, Any], key: str
) -> tuple[dict[str, str], list[str]]:
    """The API's errors about one question by form field, and the rest for the summary."""
    errors = meaningful(errors)
    try:
        i, j = locate(questionnaire, key)
        prefix = f"questionnaire.sections.{i}.questions.{j}"
    except NotFound:
        prefix = "\0"
    fields: dict[str, str] = {}
    rest: list[str] = []
    for error in errors:
        path = str(error.get("field") or "")
        message = str(error.get("message") or "")
        text = api_message(lang, error)
        name = ""
        if path.startswith(prefix + "."):
            name = QUESTION_FIELDS.get(path[len(prefix) + 1 :].split(".")[0], "")
        elif path in (prefix, "questionnaire", f"questionnaire.{key}") and (
            path == prefix or f"'{key}'" in message
        ):
            name = next((f for hint, f in _FIELD_HINTS if hint in message), "label")
        if name and name not in fields:
            fields[name] = text
        else:
            rest.append(text)
    return fields, rest


SURVEY_FIELD_NAMES = {name: name for name in SURVEY_FIELDS} | {"participants": "participants_mode"}


def survey_errors(lang: str, errors: list[dict[str, Any]]) -> tuple[dict[str, str], list[str]]:
    """The API's errors about a survey's facts (or participants) by form field."""
    errors = meaningful(errors)
    fields: dict[str, str] = {}
    rest: list[str] = []
    for error in errors:
        top = str(error.get("field") or "").split(".")[0]
        name = SURVEY_FIELD_NAMES.get(top, "")
        text = api_message(lang, error)
        if name and name not in fields:
            fields[name] = text
        else:
            rest.append(text)
    return fields, rest
