"""Rules of a response, without a database: merging saves, the window, plausibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bibmon_common.questionnaire import Questionnaire
from bibmon_responses.domain import (
    StoredAnswer,
    Submitted,
    SurveyFacts,
    changed_keys,
    counted_answers,
    explanation_errors,
    find_conflicts,
    national_ranges,
    plausibility_warnings,
    same_value,
    snapshot_answers,
    window_problem,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)

QUESTIONNAIRE = Questionnaire.model_validate(
    {
        "sections": [
            {
                "key": "s",
                "title": "S",
                "questions": [
                    {"key": "leden", "type": "integer", "label": "Leden"},
                    {"key": "budget", "type": "amount", "label": "Budget"},
                    {"key": "open", "type": "yes_no", "label": "Open?"},
                    {
                        "key": "uren",
                        "type": "decimal",
                        "label": "Uren",
                        "show_if": {"question": "open", "equals": True},
                    },
                    {"key": "naam_actie", "type": "short_text", "label": "Actie"},
                ],
            }
        ]
    }
)


def _stored(**values: tuple[object, int]) -> dict[str, StoredAnswer]:
    return {k: StoredAnswer(v, rev, NOW) for k, (v, rev) in values.items()}


def test_a_stale_save_conflicts_only_on_questions_changed_since_to_another_value():
    stored = _stored(leden=(10, 3), budget=(5.0, 1), open=(True, 4))
    sent = {"leden": 11, "budget": 6.0, "open": True, "uren": 2.5}
    assert find_conflicts(stored, sent, since=2) == ["leden"]
    assert find_conflicts(stored, sent, since=4) == []


def test_a_cleared_answer_changed_since_is_a_conflict_too():
    stored = _stored(leden=(None, 5))
    assert find_conflicts(stored, {"leden": 3}, since=4) == ["leden"]
    assert find_conflicts(stored, {"leden": None}, since=4) == []


def test_json_equality_tells_numbers_and_booleans_apart():
    assert same_value(1, 1)
    assert same_value(["a", "b"], ["a", "b"])
    assert not same_value(1, True)
    assert not same_value(1, 1.0)
    assert changed_keys(_stored(leden=(1, 1)), {"leden": 1, "budget": None}) == []
    assert changed_keys(_stored(leden=(1, 1)), {"leden": 2, "budget": 3}) == ["leden", "budget"]


def _survey(**overrides: object) -> SurveyFacts:
    fields: dict[str, object] = {
        "id": "s",
        "series_key": None,
        "opens_at": NOW - timedelta(days=1),
        "closes_at": NOW + timedelta(days=1),
        "closed_at": None,
        "participants": frozenset(),
        "questionnaire_version": 1,
    }
    fields.update(overrides)
    return SurveyFacts(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, None),
        ({"opens_at": NOW + timedelta(seconds=1)}, "survey is not open yet"),
        ({"closes_at": NOW}, "survey is closed"),
        ({"closed_at": NOW - timedelta(hours=1)}, "survey is closed"),
    ],
)
def test_the_window_opens_at_opens_at_and_closes_at_the_deadline_or_a_close(
    overrides: dict[str, object], expected: str | None
):
    assert window_problem(_survey(**overrides), NOW, correction_open=False) == expected
    assert window_problem(_survey(**overrides), NOW, correction_open=True) is None


def _warnings(answers, previous=None, national=None, ratio=0.5, factor=1.0):
    return plausibility_warnings(
        QUESTIONNAIRE,
        answers,
        previous=previous or {},
        national=national or {},
        ratio=ratio,
        range_factor=factor,
    )


def test_a_number_more_than_the_ratio_away_from_last_time_is_warned():
    assert _warnings({"leden": 150}, previous={"leden": 100}) == []
    assert _warnings({"leden": 50}, previous={"leden": 100}) == []
    (warning,) = _warnings({"leden": 151}, previous={"leden": 100})
    assert warning.code == "differs_from_previous"
    assert warning.previous_value == 100
    assert "50%" in warning.message
    assert [w.question for w in _warnings({"leden": 49}, previous={"leden": 100})] == ["leden"]
    assert _warnings({"leden": 130}, previous={"leden": 100}, ratio=0.2)[0].question == "leden"


def test_only_numbers_are_compared():
    assert _warnings({"open": True, "naam_actie": "x"}, previous={"open": False}) == []
    assert _warnings({"leden": 500}, previous={"leden": "veel"}) == []


def test_a_number_far_outside_the_national_range_is_warned():
    national = {"budget": (1000.0, 5000.0)}
    assert _warnings({"budget": 10000}, national=national) == []
    assert _warnings({"budget": 500}, national=national) == []
    (high,) = _warnings({"budget": 10000.01}, national=national)
    assert high.code == "outside_national_range"
    assert "1000 tot 5000" in high.message
    assert _warnings({"budget": 499}, national=national)[0].code == "outside_national_range"


def test_national_ranges_take_numbers_only():
    answers = [{"leden": 10, "open": True}, {"leden": 30.5}, {"leden": "x"}, {}]
    ranges = national_ranges([[Submitted(a)] for a in answers], ["leden", "open"])
    assert ranges == {"leden": (10.0, 30.5)}


def test_the_latest_submission_that_was_not_returned_counts():
    typo, fixed = {"leden": 10_000_000}, {"leden": 1000}
    assert counted_answers([]) is None
    assert counted_answers([Submitted(typo, "returned")]) is None
    assert counted_answers([Submitted(typo, "returned"), Submitted(fixed)]) == fixed
    assert counted_answers([Submitted(fixed, "accepted"), Submitted(typo, "returned")]) == fixed
    assert counted_answers([Submitted(typo, "accepted"), Submitted(fixed, "accepted")]) == fixed
    assert counted_answers([Submitted(typo), Submitted(fixed)]) == fixed


def test_a_returned_submission_does_not_widen_the_national_range():
    histories = [
        [Submitted({"leden": 10_000_000}, "returned")],  # never resubmitted: drops out
        [Submitted({"leden": 1000}, "accepted")],
        [Submitted({"leden": 5}, "returned"), Submitted({"leden": 2000})],
    ]
    assert national_ranges(histories, ["leden"]) == {"leden": (1000.0, 2000.0)}


def test_every_warning_needs_an_explanation_of_some_length():
    warnings = _warnings({"leden": 500}, previous={"leden": 100})
    errors = explanation_errors(QUESTIONNAIRE, {}, warnings, min_length=5)
    assert [(e["field"], e["type"]) for e in errors] == [
        ("explanations.leden", "explanation_required")
    ]
    assert explanation_errors(QUESTIONNAIRE, {"leden": " ok  "}, warnings, min_length=5)
    assert explanation_errors(QUESTIONNAIRE, {"leden": "Fusie"}, warnings, min_length=5) == []
    unknown = explanation_errors(QUESTIONNAIRE, {"x": "toelichting"}, [], min_length=5)
    assert unknown[0]["type"] == "unknown_question"


def test_a_submission_leaves_out_answers_to_hidden_questions():
    answers = {"leden": 1, "open": False, "uren": 3.5, "naam_actie": ""}
    assert snapshot_answers(QUESTIONNAIRE, answers) == {"leden": 1, "open": False}
    shown = {"open": True, "uren": 3.5}
    assert snapshot_answers(QUESTIONNAIRE, shown) == shown
