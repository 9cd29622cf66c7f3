"""The questionnaire model and answer validation: examples, then properties (hypothesis)."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bibmon_common.questionnaire import (
    MAX_MAGNITUDE,
    NUMERIC_TYPES,
    TEXT_LIMITS,
    Question,
    Questionnaire,
    QuestionType,
    validate_answers,
    visible_questions,
)

# -- examples ---------------------------------------------------------------------------


def q(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": f"Vraag {key}", **extra}


def questionnaire(*questions: dict[str, Any]) -> Questionnaire:
    return Questionnaire.model_validate(
        {"sections": [{"key": "algemeen", "title": "Algemeen", "questions": list(questions)}]}
    )


BRANCHES = questionnaire(
    q("has_branches", "yes_no", required=True),
    q(
        "branch_count",
        "integer",
        required=True,
        min=1,
        show_if={"question": "has_branches", "equals": True},
    ),
    q("visitors", "integer", required=True, min=0),
    q("budget", "amount", unit="EUR"),
    q("share_online", "percentage"),
    q(
        "kind",
        "single_choice",
        options=[{"value": "wsob", "label": "Wsob"}, {"value": "other", "label": "Anders"}],
    ),
    q(
        "services",
        "multiple_choice",
        options=[{"value": "lezen", "label": "Lezen"}, {"value": "digitaal", "label": "Digitaal"}],
    ),
    q("opened_on", "date"),
    q("remarks", "long_text"),
)


def codes(errors: list[Any]) -> dict[str, str]:
    return {e.question: e.code for e in errors}


def test_hidden_conditional_question_is_not_required() -> None:
    assert validate_answers(BRANCHES, {"has_branches": False, "visitors": 10}, complete=True) == []
    errors = validate_answers(BRANCHES, {"has_branches": True, "visitors": 10}, complete=True)
    assert codes(errors) == {"branch_count": "required"}


def test_draft_may_leave_required_questions_open() -> None:
    assert validate_answers(BRANCHES, {}, complete=False) == []
    assert codes(validate_answers(BRANCHES, {}, complete=True)) == {
        "has_branches": "required",
        "visitors": "required",
    }


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("visitors", 1.5, "type"),
        ("visitors", True, "type"),
        ("visitors", "12", "type"),
        ("visitors", -1, "range"),
        ("budget", 10.123, "type"),
        ("share_online", 100.5, "range"),
        ("kind", "nope", "option"),
        ("services", ["lezen", "lezen"], "type"),
        ("services", ["lezen", "x"], "option"),
        ("opened_on", "2026-02-30", "type"),
        ("opened_on", "30-01-2026", "type"),
        ("remarks", "x" * 10_001, "too_long"),
        ("has_branches", "ja", "type"),
        ("unknown", 1, "unknown_question"),
    ],
)
def test_each_kind_of_wrong_answer_is_named_per_question(key: str, value: Any, code: str) -> None:
    errors = validate_answers(BRANCHES, {key: value}, complete=False)
    assert codes(errors) == {key: code}
    error = errors[0]
    assert error.message
    assert error.message_en
    assert error.message != error.message_en
    assert error.as_field_error()["field"] == f"answers.{key}"


def test_range_messages_are_dutch_with_decimal_comma() -> None:
    form = questionnaire(q("ratio", "decimal", min=0.5, max=2.5))
    (error,) = validate_answers(form, {"ratio": 3}, complete=False)
    assert error.message == "De waarde mag hoogstens 2,5 zijn."
    assert error.message_en == "The value may be at most 2.5."


@pytest.mark.parametrize(
    ("questions", "fragment"),
    [
        ([q("a", "integer"), q("a", "integer")], "used twice"),
        ([q("a", "single_choice")], "needs options"),
        ([q("a", "integer", min=5, max=1)], "greater than max"),
        ([q("a", "short_text", min=1)], "numeric"),
        ([q("b", "integer", show_if={"question": "a", "equals": 1}), q("a", "integer")], "earlier"),
        (
            [q("a", "yes_no"), q("b", "integer", show_if={"question": "a", "equals": "x"})],
            "does not fit",
        ),
        ([q("A", "integer")], "pattern"),
    ],
)
def test_inconsistent_questionnaires_are_refused(
    questions: list[dict[str, Any]], fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment):
        questionnaire(*questions)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("remarks", "a\u0000b"),
        ("remarks", "a\ud800b"),
        ("remarks", "\udfff"),
        ("kind", "wsob\u0000"),
        ("services", ["lezen", "digitaal\ud800"]),
    ],
)
def test_text_postgresql_cannot_store_is_refused(key: str, value: Any) -> None:
    (error,) = validate_answers(BRANCHES, {key: value}, complete=False)
    assert (error.question, error.code) == (key, "type")
    assert error.message == "De tekst bevat tekens die niet zijn toegestaan."
    assert error.message_en == "The text holds characters that are not allowed."
    # A character outside the BMP (a proper surrogate pair in JSON) is fine.
    assert validate_answers(BRANCHES, {"remarks": "boek \U0001f4da"}, complete=False) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("visitors", 10**400),
        ("visitors", -(10**400)),
        ("visitors", MAX_MAGNITUDE + 1),
        ("budget", 10**400),
        ("budget", 1e300),
        ("share_online", 10**400),
        ("ratio", 10**400),
        ("ratio", -1e16),
    ],
)
def test_huge_numbers_are_too_large_not_an_overflow(key: str, value: Any) -> None:
    form = questionnaire(
        q("visitors", "integer", min=0),
        q("budget", "amount"),
        q("share_online", "percentage"),
        q("ratio", "decimal"),
    )
    (error,) = validate_answers(form, {key: value}, complete=False)
    assert (error.question, error.code) == (key, "range")
    assert error.message == "Dit getal is te groot."
    assert error.message_en == "This number is too large."


def test_the_largest_allowed_magnitude_is_accepted() -> None:
    form = questionnaire(q("n", "integer"), q("d", "decimal"), q("a", "amount"))
    answers = {"n": MAX_MAGNITUDE, "d": -float(MAX_MAGNITUDE), "a": float(MAX_MAGNITUDE)}
    assert validate_answers(form, answers, complete=True) == []


@pytest.mark.parametrize("parent", ["decimal", "integer", "amount"])
def test_a_huge_show_if_value_does_not_fit(parent: str) -> None:
    with pytest.raises(ValidationError, match="does not fit"):
        questionnaire(
            q("a", parent), q("b", "integer", show_if={"question": "a", "equals": 10**400})
        )


@pytest.mark.parametrize(
    "question",
    [
        q("a", "integer", label="Leden\u0000"),
        q("a", "integer", help="\ud800"),
        q("a", "integer", unit="EUR\u0000"),
        q("a", "single_choice", options=[{"value": "x", "label": "X\udc00"}]),
    ],
)
def test_questionnaire_texts_postgresql_cannot_store_are_refused(question: dict[str, Any]) -> None:
    # PlainText says forbidden_characters; pydantic itself refuses a lone surrogate in a
    # str with a length limit before that (string_unicode). Either way: not stored.
    refused = "forbidden_characters|string_unicode"
    with pytest.raises(ValidationError, match=refused):
        questionnaire(question)
    for section in ({"title": "A\u0000"}, {"description": "\ud800"}):
        with pytest.raises(ValidationError, match=refused):
            Questionnaire.model_validate(
                {
                    "sections": [
                        {"key": "s", "title": "S", "questions": [q("b", "integer")]} | section
                    ]
                }
            )


def test_a_show_if_text_postgresql_cannot_store_does_not_fit() -> None:
    with pytest.raises(ValidationError, match="does not fit"):
        questionnaire(
            q("a", "short_text"), q("b", "integer", show_if={"question": "a", "equals": "x\u0000"})
        )


# -- properties ---------------------------------------------------------------------------

KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
OPTION_VALUES = st.lists(
    st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True), min_size=1, max_size=4, unique=True
)
FINITE = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def questions_st(draw: st.DrawFn, key: str, earlier: list[Question]) -> Question:
    type_ = draw(st.sampled_from(sorted(get_args(QuestionType))))
    data: dict[str, Any] = {
        "key": key,
        "type": type_,
        "label": key,
        "required": draw(st.booleans()),
    }
    if type_ in {"single_choice", "multiple_choice"}:
        data["options"] = [{"value": v, "label": v.upper()} for v in draw(OPTION_VALUES)]
    if type_ in NUMERIC_TYPES and draw(st.booleans()):
        low = draw(st.integers(-1000, 1000))
        data["min"], data["max"] = low, low + draw(st.integers(0, 1000))
        if type_ == "percentage":
            data["min"], data["max"] = max(0, min(low, 100)), 100
    parents = [p for p in earlier if p.type in {"yes_no", "single_choice"}]
    if parents and draw(st.booleans()):
        parent = draw(st.sampled_from(parents))
        equals: Any = (
            draw(st.booleans())
            if parent.type == "yes_no"
            else draw(st.sampled_from([o.value for o in parent.options]))
        )
        data["show_if"] = {"question": parent.key, "equals": equals}
    return Question.model_validate(data)


@st.composite
def questionnaires(draw: st.DrawFn) -> Questionnaire:
    keys = draw(st.lists(KEYS, min_size=1, max_size=12, unique=True))
    built: list[Question] = []
    for key in keys:
        built.append(draw(questions_st(key, built)))
    cut = draw(st.integers(1, len(built)))
    sections = [
        {"key": "deel_a", "title": "Deel A", "questions": built[:cut]},
        *([{"key": "deel_b", "title": "Deel B", "questions": built[cut:]}] if built[cut:] else []),
    ]
    return Questionnaire.model_validate({"sections": sections})


def valid_value(draw: st.DrawFn, question: Question) -> Any:
    t = question.type
    low, high = question.lower, question.upper
    if t == "integer":
        return draw(
            st.integers(
                int(low) if low is not None else -(10**6), int(high) if high is not None else 10**6
            )
        )
    if t in {"decimal", "percentage"}:
        return draw(
            st.floats(
                low if low is not None else -1e6, high if high is not None else 1e6, allow_nan=False
            )
        )
    if t == "amount":
        cents = draw(
            st.integers(
                int((low if low is not None else -1e6) * 100),
                int((high if high is not None else 1e6) * 100),
            )
        )
        return round(cents / 100, 2)
    if t == "yes_no":
        return draw(st.booleans())
    if t == "single_choice":
        return draw(st.sampled_from([o.value for o in question.options]))
    if t == "multiple_choice":
        return draw(
            st.lists(st.sampled_from([o.value for o in question.options]), min_size=1, unique=True)
        )
    if t in TEXT_LIMITS:
        # Any text PostgreSQL can store: no NUL (st.text() leaves out surrogates already).
        text = st.text(
            st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
            min_size=1,
            max_size=40,
        )
        return draw(text.filter(lambda s: s.strip() != ""))
    return draw(st.dates()).isoformat()


def invalid_value(draw: st.DrawFn, question: Question) -> Any:
    t = question.type
    if t in NUMERIC_TYPES:
        choices: list[Any] = ["12", True, [1], 10**400, -(10**16)]
        if question.upper is not None:
            choices.append(question.upper + 1)
        if t == "integer":
            choices.append(0.5)
        return draw(st.sampled_from(choices))
    if t == "yes_no":
        return draw(st.sampled_from(["ja", 1, 0.0]))
    if t == "single_choice":
        return draw(st.sampled_from(["zz_not_an_option", 3, ["x"], "a\x00"]))
    if t == "multiple_choice":
        return draw(st.sampled_from([["zz_not_an_option"], "lezen", [1], ["\ud800"]]))
    if t in TEXT_LIMITS:
        return draw(st.sampled_from([12, "x" * (TEXT_LIMITS[t] + 1), "a\x00b", "\udc00"]))
    return draw(st.sampled_from(["2026-13-01", "gisteren", 20260101]))


@st.composite
def filled_in(draw: st.DrawFn) -> tuple[Questionnaire, dict[str, Any]]:
    form = draw(questionnaires())
    answers = {question.key: valid_value(draw, question) for question in form.questions()}
    return form, answers


PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(filled_in())
def test_every_question_answered_validly_is_accepted(
    case: tuple[Questionnaire, dict[str, Any]],
) -> None:
    form, answers = case
    assert validate_answers(form, answers, complete=True) == []
    # ... also after a trip through JSON, as answers are stored and sent.
    assert validate_answers(form, json.loads(json.dumps(answers)), complete=True) == []


@PROPS
@given(filled_in(), st.data())
def test_a_draft_of_any_valid_subset_is_accepted(
    case: tuple[Questionnaire, dict[str, Any]], data: st.DataObject
) -> None:
    form, answers = case
    keep = data.draw(st.sets(st.sampled_from(sorted(answers))))
    assert validate_answers(form, {k: answers[k] for k in keep}, complete=False) == []


@PROPS
@given(filled_in(), st.data())
def test_one_wrong_answer_gives_exactly_one_error_naming_that_question(
    case: tuple[Questionnaire, dict[str, Any]], data: st.DataObject
) -> None:
    form, answers = case
    target = data.draw(st.sampled_from(list(form.questions())))
    answers[target.key] = invalid_value(data.draw, target)
    for complete in (False, True):
        errors = validate_answers(form, answers, complete=complete)
        assert [
            (e.question, e.code in {"type", "range", "option", "too_long"}) for e in errors
        ] == [(target.key, True)]
        assert errors[0].message.endswith(".")


@PROPS
@given(filled_in(), st.data())
def test_required_means_required_only_when_shown(
    case: tuple[Questionnaire, dict[str, Any]], data: st.DataObject
) -> None:
    form, answers = case
    dropped = data.draw(st.sets(st.sampled_from(sorted(answers))))
    partial = {k: v for k, v in answers.items() if k not in dropped}
    visible = visible_questions(form, partial)
    errors = validate_answers(form, partial, complete=True)
    expected = {
        q.key for q in form.questions() if q.required and q.key in dropped and q.key in visible
    }
    assert {e.question for e in errors} == expected
    assert all(e.code == "required" for e in errors)
    assert validate_answers(form, partial, complete=False) == []


@PROPS
@given(
    questionnaires(),
    st.dictionaries(
        st.from_regex(r"zz[a-z]{1,5}", fullmatch=True), st.integers(), min_size=1, max_size=3
    ),
)
def test_unknown_questions_are_always_named(form: Questionnaire, extra: dict[str, int]) -> None:
    errors = validate_answers(form, extra, complete=False)
    assert {e.question for e in errors if e.code == "unknown_question"} == set(extra)


@PROPS
@given(questionnaires())
def test_a_questionnaire_survives_a_trip_through_json(form: Questionnaire) -> None:
    assert Questionnaire.model_validate_json(form.model_dump_json()) == form


# -- settings reporting reads -----------------------------------------------------------


def test_free_text_is_never_published_unless_marked_and_everything_else_is_public() -> None:
    by_key = BRANCHES.by_key()
    assert by_key["remarks"].effective_publication == "never"
    assert by_key["visitors"].effective_publication == "public"
    assert by_key["kind"].effective_publication == "public"
    assert by_key["has_branches"].effective_publication == "public"
    marked = questionnaire(q("story", "long_text", publication="public"))
    assert marked.by_key()["story"].effective_publication == "public"


def test_per_inhabitant_applies_to_numeric_questions_only() -> None:
    loans = questionnaire(q("loans", "integer", per_inhabitant=True)).by_key()["loans"]
    assert loans.per_inhabitant
    with pytest.raises(ValidationError, match="per_inhabitant applies to numeric questions"):
        questionnaire(q("kind", "yes_no", per_inhabitant=True))


def test_key_figures_default_to_the_first_six_numeric_questions() -> None:
    form = questionnaire(*(q(f"n{i}", "integer") for i in range(8)), q("remarks", "long_text"))
    assert [x.key for x in form.effective_key_figures()] == [f"n{i}" for i in range(6)]
    assert [x.key for x in BRANCHES.effective_key_figures()] == [
        "branch_count",
        "visitors",
        "budget",
        "share_online",
    ]


def test_named_key_figures_must_be_numeric_distinct_and_at_most_six() -> None:
    base = [q(f"n{i}", "integer") for i in range(8)] + [q("remarks", "long_text")]
    sections = [{"key": "algemeen", "title": "Algemeen", "questions": base}]
    named = Questionnaire.model_validate({"sections": sections, "key_figures": ["n7", "n2"]})
    assert [x.key for x in named.effective_key_figures()] == ["n7", "n2"]
    for wrong in (["remarks"], ["nope"], ["n1", "n1"], [f"n{i}" for i in range(7)]):
        with pytest.raises(ValidationError):
            Questionnaire.model_validate({"sections": sections, "key_figures": wrong})
