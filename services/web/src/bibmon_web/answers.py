"""Answers between HTML form fields and the responses API's JSON values.

Numbers are typed the Dutch way ("1.234,5"); a form keeps, per question, the value it
was rendered with (`o.<key>`), so a save sends only what this person changed, and the
API's per-question merge (ADR 0010) can tell a colleague's change from one's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import FormData

from bibmon_common.questionnaire import NUMERIC_TYPES, Question, Questionnaire

ANSWER_PREFIX = "a."
ORIGINAL_PREFIX = "o."
SHOWN_FIELD = "q"
_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


@dataclass(frozen=True)
class Invalid:
    """Input that is not a value of the question's type (a Dutch source text)."""

    message: str


def _number_text(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    text = format(Decimal(str(value)), "f")
    return text.replace(".", ",")


def encode(question: Question, value: Any) -> str | list[str]:
    """The form's text for an answer (a list for multiple choice)."""
    if question.type == "multiple_choice":
        return [str(v) for v in value] if isinstance(value, list) else []
    if value is None:
        return ""
    if question.type == "yes_no":
        return "ja" if value is True else "nee" if value is False else ""
    if question.type in NUMERIC_TYPES and isinstance(value, int | float):
        return _number_text(value)
    return str(value)


def original_text(question: Question, value: Any) -> str:
    """One hidden field's text for the value a form was rendered with."""
    encoded = encode(question, value)
    return ",".join(sorted(encoded)) if isinstance(encoded, list) else encoded


def submitted_text(question: Question, form: FormData) -> str:
    """The same text for what the person submitted."""
    name = ANSWER_PREFIX + question.key
    if question.type == "multiple_choice":
        return ",".join(sorted(str(v) for v in form.getlist(name)))
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse_number(question: Question, raw: str) -> float | int | Invalid:
    text = raw.replace(" ", "").replace("\u00a0", "").replace("€", "").replace("%", "")
    if question.type == "integer":
        if _THOUSANDS.match(text):
            text = text.replace(".", "")
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        return Invalid("Vul een heel getal in, zonder komma.")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif _THOUSANDS.match(text):
        text = text.replace(".", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return Invalid("Vul een getal in, bijvoorbeeld 12,5.")
    if not number.is_finite():
        return Invalid("Vul een getal in, bijvoorbeeld 12,5.")
    return int(number) if number == number.to_integral_value() else float(number)


def parse(question: Question, form: FormData) -> Any:
    """The API value of a submitted field, None for empty, or Invalid."""
    name = ANSWER_PREFIX + question.key
    if question.type == "multiple_choice":
        values = [str(v) for v in form.getlist(name)]
        allowed = {o.value for o in question.options}
        if any(v not in allowed for v in values):
            return Invalid("Kies uit de opties.")
        return sorted(set(values), key=[o.value for o in question.options].index) or None
    raw = submitted_text(question, form)
    if raw == "":
        return None
    if question.type in NUMERIC_TYPES:
        return parse_number(question, raw)
    if question.type == "yes_no":
        return {"ja": True, "nee": False}.get(raw, Invalid("Kies ja of nee."))
    if question.type == "single_choice":
        if raw not in {o.value for o in question.options}:
            return Invalid("Kies uit de opties.")
        return raw
    if question.type == "date":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return Invalid("Vul een datum in als jjjj-mm-dd.")
        return raw
    return raw


@dataclass
class Changes:
    """What one form post changes: valid answers to send, and local input errors."""

    answers: dict[str, Any]
    invalid: dict[str, str]
    raw: dict[str, str | list[str]]


def changes(questionnaire: Questionnaire, form: FormData) -> Changes:
    """The answers of the shown questions whose submitted text differs from the original."""
    shown = {str(k) for k in form.getlist(SHOWN_FIELD)}
    out = Changes({}, {}, {})
    for question in questionnaire.questions():
        if question.key not in shown:
            continue
        original = form.get(ORIGINAL_PREFIX + question.key)
        original = original if isinstance(original, str) else ""
        if submitted_text(question, form) == original:
            continue
        name = ANSWER_PREFIX + question.key
        out.raw[question.key] = (
            [str(v) for v in form.getlist(name)]
            if question.type == "multiple_choice"
            else submitted_text(question, form)
        )
        value = parse(question, form)
        if isinstance(value, Invalid):
            out.invalid[question.key] = value.message
        else:
            out.answers[question.key] = value
    return out
