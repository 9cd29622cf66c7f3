"""The questionnaire model and answer validation, shared by surveys and responses.

Surveys validates a questionnaire when a researcher saves it; responses keeps a copy of
every published version and validates answers against the exact version a response was
started on. Both use this one module, so a questionnaire that surveys accepts is one
that responses can check answers against.

Answers are a JSON object `{question_key: value}`. Values per question type:

| type | value |
|---|---|
| integer | JSON integer |
| decimal, percentage, amount | JSON number (amount in euro, at most 2 decimals) |
| yes_no | true / false |
| single_choice | one option value (string) |
| multiple_choice | list of distinct option values |
| short_text, long_text | string (at most 255 / 10,000 characters) |
| date | "YYYY-MM-DD" |

A number's magnitude is at most `MAX_MAGNITUDE` (10^15), so every figure fits a float
exactly enough and a 400-digit integer is refused instead of overflowing. Text (and a
choice value) holds no NUL and no surrogate code point: PostgreSQL cannot store those.
The questionnaire's own texts (labels, help, titles, descriptions, units) are
`bibmon_common.text.PlainText` for the same reason.

`null` (or a missing key) means "not answered". A question with `show_if` is visible
only when the earlier question it names is visible and its answer equals the given
value (for multiple choice: contains it); a hidden question is never required.
Messages are Dutch (the users' language); `message_en` carries the English text.

Reporting reads three more settings. `publication` says whether a question's answers go
into the open dataset (`public`), only into the benchmarks (`internal`) or nowhere outside
responses (`never`); unset, numbers, choices, yes/no and dates are public and free text is
never published, because free text may name people. `per_inhabitant` (numeric only) asks
for benchmarks per 1,000 inhabitants as well, the only fair comparison between libraries
of different sizes. The questionnaire's `key_figures` names up to six numeric questions
for the infographic (default: its first six numeric questions).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bibmon_common.text import MESSAGE_NL, PlainText, has_forbidden_characters

QuestionType = Literal[
    "integer",
    "decimal",
    "percentage",
    "amount",
    "yes_no",
    "single_choice",
    "multiple_choice",
    "short_text",
    "long_text",
    "date",
]
NUMERIC_TYPES: frozenset[str] = frozenset({"integer", "decimal", "percentage", "amount"})
CHOICE_TYPES: frozenset[str] = frozenset({"single_choice", "multiple_choice"})
TEXT_LIMITS: dict[str, int] = {"short_text": 255, "long_text": 10_000}
TEXT_TYPES: frozenset[str] = frozenset(TEXT_LIMITS)
Publication = Literal["public", "internal", "never"]
MAX_KEY_FIGURES = 6
# The largest magnitude of a numeric answer (or show_if value): far above any figure a
# library reports, small enough that float() never overflows and stays exact for integers.
MAX_MAGNITUDE = 10**15

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

ShowIfValue = bool | int | float | str


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Option(_Model):
    value: str = Field(pattern=KEY_PATTERN, description="Stable value stored in answers.")
    label: PlainText = Field(min_length=1, max_length=300)


class ShowIf(_Model):
    """Show the question only when `question` (an earlier one) is answered with `equals`."""

    question: str = Field(pattern=KEY_PATTERN)
    equals: ShowIfValue


class Question(_Model):
    key: str = Field(
        pattern=KEY_PATTERN,
        description="Stable across the versions and the years of a series, so figures compare.",
    )
    type: QuestionType
    label: PlainText = Field(min_length=1, max_length=500)
    help: PlainText = Field(default="", max_length=2000)
    required: bool = False
    min: float | None = None
    max: float | None = None
    unit: PlainText = Field(default="", max_length=40)
    options: tuple[Option, ...] = ()
    show_if: ShowIf | None = None
    publication: Publication | None = Field(
        default=None,
        description=(
            "public: in the open dataset; internal: benchmarks only; never: stays in "
            "responses. Unset: never for free text, public for everything else."
        ),
    )
    per_inhabitant: bool = Field(
        default=False, description="Numeric only: benchmark per 1,000 inhabitants as well."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.type in CHOICE_TYPES:
            if len(self.options) < 1:
                raise ValueError(f"question {self.key!r}: a choice question needs options")
            values = [o.value for o in self.options]
            if len(set(values)) != len(values):
                raise ValueError(f"question {self.key!r}: option values must be unique")
        elif self.options:
            raise ValueError(f"question {self.key!r}: only choice questions have options")
        if self.type not in NUMERIC_TYPES and (self.min is not None or self.max is not None):
            raise ValueError(f"question {self.key!r}: min and max apply to numeric questions")
        for bound in (self.min, self.max):
            if bound is not None and not math.isfinite(bound):
                raise ValueError(f"question {self.key!r}: min and max must be finite")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"question {self.key!r}: min is greater than max")
        if self.per_inhabitant and self.type not in NUMERIC_TYPES:
            raise ValueError(f"question {self.key!r}: per_inhabitant applies to numeric questions")
        return self

    @property
    def effective_publication(self) -> Publication:
        """The publication setting, with the default for the question's type filled in."""
        if self.publication is not None:
            return self.publication
        return "never" if self.type in TEXT_TYPES else "public"

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def lower(self) -> float | None:
        if self.min is not None:
            return self.min
        return 0.0 if self.type == "percentage" else None

    @property
    def upper(self) -> float | None:
        if self.max is not None:
            return self.max
        return 100.0 if self.type == "percentage" else None


class Section(_Model):
    key: str = Field(pattern=KEY_PATTERN)
    title: PlainText = Field(min_length=1, max_length=300)
    description: PlainText = Field(default="", max_length=5000)
    questions: tuple[Question, ...] = Field(min_length=1)


class Questionnaire(_Model):
    sections: tuple[Section, ...] = Field(min_length=1)
    key_figures: tuple[str, ...] = Field(
        default=(),
        max_length=MAX_KEY_FIGURES,
        description="Up to six numeric question keys for the infographic.",
    )

    @model_validator(mode="after")
    def _keys_and_conditions(self) -> Questionnaire:
        section_keys = [s.key for s in self.sections]
        if len(set(section_keys)) != len(section_keys):
            raise ValueError("section keys must be unique")
        seen: dict[str, Question] = {}
        for question in self.questions():
            if question.key in seen:
                raise ValueError(f"question key {question.key!r} is used twice")
            if question.show_if is not None:
                parent = seen.get(question.show_if.question)
                if parent is None:
                    raise ValueError(
                        f"question {question.key!r}: show_if must name an earlier question"
                    )
                if check_value(parent, question.show_if.equals, for_condition=True):
                    raise ValueError(
                        f"question {question.key!r}: show_if value does not fit "
                        f"question {parent.key!r}"
                    )
            seen[question.key] = question
        if len(set(self.key_figures)) != len(self.key_figures):
            raise ValueError("key_figures must not name a question twice")
        for key in self.key_figures:
            if key not in seen or not seen[key].numeric:
                raise ValueError(f"key figure {key!r} must name a numeric question")
        return self

    def effective_key_figures(self) -> tuple[Question, ...]:
        """The infographic's questions: the named key figures, else the first six numbers."""
        by_key = self.by_key()
        if self.key_figures:
            return tuple(by_key[k] for k in self.key_figures)
        return tuple(q for q in self.questions() if q.numeric)[:MAX_KEY_FIGURES]

    def questions(self) -> Iterator[Question]:
        for section in self.sections:
            yield from section.questions

    def by_key(self) -> dict[str, Question]:
        return {q.key: q for q in self.questions()}


@dataclass(frozen=True)
class AnswerError:
    """One problem with one answer; `question` is the question key."""

    question: str
    code: str
    message: str
    message_en: str

    def as_field_error(self) -> dict[str, str]:
        return {
            "field": f"answers.{self.question}",
            "question": self.question,
            "type": self.code,
            "message": self.message,
            "message_en": self.message_en,
        }


def _fmt(number: float) -> str:
    """A bound as a Dutch reader expects it: 1.5 → '1,5', 10.0 → '10'."""
    text = f"{number:.10g}"
    return text.replace(".", ",")


def _is_number(value: Any) -> bool:
    # No float() here: a 400-digit integer would overflow it.
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


_TOO_LARGE = ("range", "Dit getal is te groot.", "This number is too large.")
_BAD_CHARACTERS = (
    "type",
    MESSAGE_NL,
    "The text holds characters that are not allowed.",
)


def _bad_text(value: Any) -> bool:
    """A string holding NUL or a surrogate (PostgreSQL cannot store it)."""
    if isinstance(value, str):
        return has_forbidden_characters(value)
    return isinstance(value, list) and any(
        isinstance(v, str) and has_forbidden_characters(v) for v in value
    )


Problem = tuple[str, str, str]  # (code, Dutch message, English message)
# How one question type checks a value: (question, value, for_condition) → problem or None.
Checker = Callable[["Question", Any, bool], Problem | None]


def _out_of_range(question: Question, value: float) -> Problem | None:
    number = float(value)
    if question.lower is not None and number < question.lower:
        return (
            "range",
            f"De waarde moet minstens {_fmt(question.lower)} zijn.",
            f"The value must be at least {_fmt(question.lower).replace(',', '.')}.",
        )
    if question.upper is not None and number > question.upper:
        return (
            "range",
            f"De waarde mag hoogstens {_fmt(question.upper)} zijn.",
            f"The value may be at most {_fmt(question.upper).replace(',', '.')}.",
        )
    return None


def _check_integer(question: Question, value: Any, for_condition: bool) -> Problem | None:
    if not (isinstance(value, int) and not isinstance(value, bool)):
        return "type", "Vul een geheel getal in.", "Enter a whole number."
    if abs(value) > MAX_MAGNITUDE:
        return _TOO_LARGE
    return None if for_condition else _out_of_range(question, value)


def _check_number(question: Question, value: Any, for_condition: bool) -> Problem | None:
    """decimal and percentage: any finite JSON number within the bounds."""
    if not _is_number(value):
        return "type", "Vul een getal in.", "Enter a number."
    if abs(value) > MAX_MAGNITUDE:
        return _TOO_LARGE
    return None if for_condition else _out_of_range(question, value)


def _check_amount(question: Question, value: Any, for_condition: bool) -> Problem | None:
    """A number in euro with at most two decimals."""
    if not _is_number(value):
        return "type", "Vul een getal in.", "Enter a number."
    if abs(value) > MAX_MAGNITUDE:
        return _TOO_LARGE
    if round(float(value), 2) != float(value):
        return (
            "type",
            "Vul een bedrag in euro in, met hoogstens twee decimalen.",
            "Enter an amount in euro with at most two decimals.",
        )
    return None if for_condition else _out_of_range(question, value)


def _check_yes_no(question: Question, value: Any, for_condition: bool) -> Problem | None:
    if not isinstance(value, bool):
        return "type", "Kies ja of nee.", "Choose yes or no."
    return None


def _check_single_choice(question: Question, value: Any, for_condition: bool) -> Problem | None:
    if _bad_text(value):
        return _BAD_CHARACTERS
    if not isinstance(value, str) or value not in {o.value for o in question.options}:
        return "option", "Kies een van de opties.", "Choose one of the options."
    return None


def _check_multiple_choice(question: Question, value: Any, for_condition: bool) -> Problem | None:
    """A list of distinct options; a show_if value is a single option."""
    if for_condition:
        return _check_single_choice(question, value, for_condition)
    if _bad_text(value):
        return _BAD_CHARACTERS
    if (
        not isinstance(value, list)
        or not all(isinstance(v, str) for v in value)
        or len(set(value)) != len(value)
    ):
        return (
            "type",
            "Kies een of meer van de opties.",
            "Choose one or more of the options.",
        )
    allowed = {o.value for o in question.options}
    if any(v not in allowed for v in value):
        return "option", "Kies alleen uit de opties.", "Choose only from the options."
    return None


def _check_text(question: Question, value: Any, for_condition: bool) -> Problem | None:
    """short_text and long_text: a string of at most TEXT_LIMITS[type] characters."""
    if _bad_text(value):
        return _BAD_CHARACTERS
    if not isinstance(value, str):
        return "type", "Vul tekst in.", "Enter text."
    limit = TEXT_LIMITS[question.type]
    if len(value) > limit:
        return (
            "too_long",
            f"De tekst mag hoogstens {limit} tekens lang zijn.",
            f"The text may be at most {limit} characters long.",
        )
    return None


def _check_date(question: Question, value: Any, for_condition: bool) -> Problem | None:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return "type", "Vul een datum in als JJJJ-MM-DD.", "Enter a date as YYYY-MM-DD."
    try:
        date.fromisoformat(value)
    except ValueError:
        return "type", "Deze datum bestaat niet.", "This date does not exist."
    return None


# One checker per question type; a new type adds its checker here (the import fails otherwise).
CHECKERS: dict[str, Checker] = {
    "integer": _check_integer,
    "decimal": _check_number,
    "percentage": _check_number,
    "amount": _check_amount,
    "yes_no": _check_yes_no,
    "single_choice": _check_single_choice,
    "multiple_choice": _check_multiple_choice,
    "short_text": _check_text,
    "long_text": _check_text,
    "date": _check_date,
}
if set(CHECKERS) != set(get_args(QuestionType)):  # pragma: no cover - a wiring error
    raise RuntimeError(
        f"question types without a checker: {set(get_args(QuestionType)) - set(CHECKERS)}"
    )


def check_value(question: Question, value: Any, *, for_condition: bool = False) -> Problem | None:
    """Why `value` is not a valid answer to `question`: (code, nl, en), or None if it is.

    With `for_condition`, `value` is a show_if value: a single option of a multiple
    choice question is accepted, and a number's bounds are not checked.
    """
    return CHECKERS[question.type](question, value, for_condition)


def is_answered(value: Any) -> bool:
    """An answer counts as given unless it is null, an empty string or an empty list."""
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, list):
        return len(value) > 0
    return True


def visible_questions(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> set[str]:
    """Keys of the questions shown for these answers (conditions follow the question order)."""
    visible: set[str] = set()
    by_key = questionnaire.by_key()
    for question in questionnaire.questions():
        cond = question.show_if
        if cond is None:
            visible.add(question.key)
            continue
        if cond.question not in visible:
            continue
        parent = by_key[cond.question]
        answer = answers.get(cond.question)
        if parent.type == "multiple_choice":
            shown = isinstance(answer, list) and cond.equals in answer
        else:
            shown = answer == cond.equals and isinstance(answer, bool) == isinstance(
                cond.equals, bool
            )
        if shown:
            visible.add(question.key)
    return visible


def validate_answers(
    questionnaire: Questionnaire, answers: Mapping[str, Any], *, complete: bool
) -> list[AnswerError]:
    """Every problem with `answers`, in questionnaire order.

    A draft (`complete=False`) may leave anything open: only the given values are
    checked. A submission (`complete=True`) also needs every visible required question.
    """
    errors: list[AnswerError] = []
    by_key = questionnaire.by_key()
    for key in answers:
        if key not in by_key:
            errors.append(
                AnswerError(
                    key,
                    "unknown_question",
                    "Deze vraag staat niet in deze vragenlijst.",
                    "This question is not part of this questionnaire.",
                )
            )
    visible = visible_questions(questionnaire, answers) if complete else set()
    for question in questionnaire.questions():
        value = answers.get(question.key)
        if not is_answered(value):
            if complete and question.required and question.key in visible:
                errors.append(
                    AnswerError(
                        question.key,
                        "required",
                        "Deze vraag is verplicht.",
                        "This question is required.",
                    )
                )
            if value is None or value == "" or value == []:
                continue
        problem = check_value(question, value)
        if problem is not None:
            errors.append(AnswerError(question.key, *problem))
    return errors
