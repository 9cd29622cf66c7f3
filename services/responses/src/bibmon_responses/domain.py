"""Rules of a response: who may change it when, how stale saves merge, plausibility.

No I/O here; the use cases (usecases/) feed these functions what it read in one transaction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from bibmon_common.questionnaire import (
    NUMERIC_TYPES,
    Questionnaire,
    is_answered,
    visible_questions,
)

Status = Literal["not_started", "draft", "submitted", "accepted", "returned", "reopened"]
STATUSES: tuple[Status, ...] = get_args(Status)
# States in which the organisation may change its answers; submitted and accepted
# responses must be returned or reopened by a researcher first.
EDITABLE: frozenset[str] = frozenset({"not_started", "draft", "returned", "reopened"})
EXPLANATION_MAX_LENGTH = 2000

WarningCode = Literal["differs_from_previous", "outside_national_range"]


@dataclass(frozen=True)
class SurveyFacts:
    """What the responses service knows of a published survey."""

    id: Any
    series_key: str | None
    opens_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    participants: frozenset[Any]
    questionnaire_version: int  # the newest published version

    def is_closed(self, now: datetime) -> bool:
        """Closed by hand (surveys.survey.closed.v1) or past its deadline."""
        return self.closed_at is not None or now >= self.closes_at


def window_problem(survey: SurveyFacts, now: datetime, *, correction_open: bool) -> str | None:
    """Why the organisation may not save or submit now, or None when it may.

    A reopened response (a correction granted by a researcher) ignores the window.
    """
    if correction_open:
        return None
    if now < survey.opens_at:
        return "survey is not open yet"
    if survey.is_closed(now):
        return "survey is closed"
    return None


@dataclass(frozen=True)
class StoredAnswer:
    """One saved answer and the response revision at which it last changed."""

    value: Any
    revision: int
    changed_at: datetime


def same_value(a: Any, b: Any) -> bool:
    """Equal as JSON (so 1 and true, or 1 and 1.0, are different answers)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def changed_keys(stored: Mapping[str, StoredAnswer], sent: Mapping[str, Any]) -> list[str]:
    """The sent keys whose value differs from what is stored (a missing answer is null)."""
    return [
        key
        for key, value in sent.items()
        if not same_value(stored[key].value if key in stored else None, value)
    ]


def find_conflicts(
    stored: Mapping[str, StoredAnswer], sent: Mapping[str, Any], since: int
) -> list[str]:
    """Keys another save changed after revision `since` to something else than is sent.

    Per-question merge: a stale save is fine as long as it does not overwrite an answer
    someone else changed since the client read the response.
    """
    return [
        key
        for key, value in sent.items()
        if key in stored
        and stored[key].revision > since
        and not same_value(stored[key].value, value)
    ]


def present_answers(stored: Mapping[str, StoredAnswer]) -> dict[str, Any]:
    """The answers that are given (a cleared answer is left out)."""
    return {k: a.value for k, a in stored.items() if a.value is not None}


@dataclass(frozen=True)
class PlausibilityWarning:
    """An answer that looks unlikely next to last time's figures; needs an explanation."""

    question: str
    code: WarningCode
    message: str
    message_en: str
    previous_value: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "code": self.code,
            "previous_value": self.previous_value,
            "message": self.message,
            "message_en": self.message_en,
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _fmt(number: float, *, dutch: bool) -> str:
    text = f"{number:.10g}"
    return text.replace(".", ",") if dutch else text


# A submission a researcher returned is no figure the organisation stands by (a typo,
# say): it counts neither in the national range nor as the organisation's previous answer.
RETURNED = "returned"


@dataclass(frozen=True)
class Submitted:
    """One submitted version of a response and the researcher's review of it, if any."""

    answers: Mapping[str, Any]
    review: str | None = None  # None (not reviewed), "accepted" or "returned"


def counted_answers(history: Sequence[Submitted]) -> Mapping[str, Any] | None:
    """The answers of a response that count for plausibility: those of its latest
    submission that was not returned (unreviewed and accepted ones count), or None when
    every submission was returned. `history` is oldest first.

    `repository.latest_submitted_answers` and `repository.national_ranges` apply the same
    rule in SQL; tests hold them to this function.
    """
    for submitted in reversed(history):
        if submitted.review != RETURNED:
            return submitted.answers
    return None


def national_ranges(
    histories: Iterable[Sequence[Submitted]], keys: Iterable[str]
) -> dict[str, tuple[float, float]]:
    """(min, max) per key of every organisation's counted numeric answer (`counted_answers`
    of each response's submissions, oldest first)."""
    wanted = set(keys)
    ranges: dict[str, tuple[float, float]] = {}
    for history in histories:
        answers = counted_answers(history)
        if answers is None:
            continue
        for key, value in answers.items():
            number = _number(value)
            if key not in wanted or number is None:
                continue
            low, high = ranges.get(key, (number, number))
            ranges[key] = (min(low, number), max(high, number))
    return ranges


def plausibility_warnings(
    questionnaire: Questionnaire,
    answers: Mapping[str, Any],
    *,
    previous: Mapping[str, Any],
    national: Mapping[str, tuple[float, float]],
    ratio: float,
    range_factor: float,
) -> list[PlausibilityWarning]:
    """Warnings for numeric answers far from the organisation's previous answer or the
    national range of the previous survey of the same series, in questionnaire order."""
    warnings: list[PlausibilityWarning] = []
    percent = f"{ratio * 100:.0f}%"
    for question in questionnaire.questions():
        if question.type not in NUMERIC_TYPES:
            continue
        value = _number(answers.get(question.key))
        if value is None:
            continue
        before = _number(previous.get(question.key))
        if before is not None and abs(value - before) > ratio * abs(before):
            warnings.append(
                PlausibilityWarning(
                    question.key,
                    "differs_from_previous",
                    f"Deze waarde wijkt meer dan {percent} af van uw antwoord bij de vorige "
                    f"meting ({_fmt(before, dutch=True)}). Licht het verschil toe.",
                    f"This value differs by more than {percent} from your answer to the "
                    f"previous survey ({_fmt(before, dutch=False)}). Please explain why.",
                    previous_value=previous.get(question.key),
                )
            )
            continue
        if question.key in national:
            low, high = national[question.key]
            if value < low / (1 + range_factor) or value > high * (1 + range_factor):
                warnings.append(
                    PlausibilityWarning(
                        question.key,
                        "outside_national_range",
                        "Deze waarde ligt ver buiten wat bibliotheken bij de vorige meting "
                        f"opgaven ({_fmt(low, dutch=True)} tot {_fmt(high, dutch=True)}). "
                        "Licht de waarde toe.",
                        "This value lies far outside what libraries reported in the previous "
                        f"survey ({_fmt(low, dutch=False)} to {_fmt(high, dutch=False)}). "
                        "Please explain it.",
                        previous_value=previous.get(question.key),
                    )
                )
    return warnings


def explanation_errors(
    questionnaire: Questionnaire,
    explanations: Mapping[str, str],
    warnings: Iterable[PlausibilityWarning],
    *,
    min_length: int,
) -> list[dict[str, str]]:
    """Problems with the explanations of a submission, as problem+json field errors."""
    errors: list[dict[str, str]] = []
    keys = questionnaire.by_key()
    for key, text in explanations.items():
        if key not in keys:
            errors.append(
                _explanation_error(
                    key,
                    "unknown_question",
                    "Deze vraag staat niet in deze vragenlijst.",
                    "This question is not part of this questionnaire.",
                )
            )
        elif len(text) > EXPLANATION_MAX_LENGTH:
            errors.append(
                _explanation_error(
                    key,
                    "too_long",
                    f"De toelichting mag hoogstens {EXPLANATION_MAX_LENGTH} tekens lang zijn.",
                    f"The explanation may be at most {EXPLANATION_MAX_LENGTH} characters long.",
                )
            )
    for warning in warnings:
        if len(explanations.get(warning.question, "").strip()) < min_length:
            errors.append(
                _explanation_error(
                    warning.question,
                    "explanation_required",
                    f"{warning.message} Geef een toelichting van minstens {min_length} tekens.",
                    f"{warning.message_en} Give an explanation of at least {min_length} "
                    "characters.",
                )
            )
    return errors


def _explanation_error(key: str, code: str, message: str, message_en: str) -> dict[str, str]:
    return {
        "field": f"explanations.{key}",
        "question": key,
        "type": code,
        "message": message,
        "message_en": message_en,
    }


def snapshot_answers(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """What a submission records: the given answers to the questions shown.

    An answer to a question that a later answer hid (show_if) is left out, so reporting
    never counts a figure the organisation did not mean to give.
    """
    visible = visible_questions(questionnaire, answers)
    return {k: v for k, v in answers.items() if k in visible and is_answered(v)}
