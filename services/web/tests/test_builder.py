"""The questionnaire builder's form parsing, its changes to a questionnaire, its errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.datastructures import FormData

from bibmon_common.questionnaire import Questionnaire
from bibmon_web import builder


def _form(**fields: Any) -> FormData:
    items: list[tuple[str, str]] = []
    for name, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            items.append((name, v))
    return FormData(items)


def _questionnaire() -> dict[str, Any]:
    q = Questionnaire.model_validate(
        {
            "sections": [
                {
                    "key": "gebruik",
                    "title": "Gebruik",
                    "questions": [
                        {"key": "visits", "type": "integer", "label": "Bezoeken"},
                        {"key": "wifi", "type": "yes_no", "label": "Wifi"},
                        {
                            "key": "kind",
                            "type": "single_choice",
                            "label": "Soort",
                            "options": [{"value": "groot", "label": "Groot"}],
                        },
                    ],
                },
                {
                    "key": "geld",
                    "title": "Geld",
                    "questions": [{"key": "budget", "type": "amount", "label": "Budget"}],
                },
            ],
            "key_figures": ["visits", "budget"],
        }
    )
    return q.model_dump(mode="json")


# -- values ------------------------------------------------------------------------------
def test_a_local_time_from_the_form_is_dutch_time() -> None:
    winter = builder.parse_local_datetime("2027-01-05T09:00")
    assert winter is not None
    assert winter.astimezone(UTC) == datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
    summer = builder.parse_local_datetime("2027-07-01 17:30")
    assert summer is not None
    assert summer.astimezone(UTC) == datetime(2027, 7, 1, 15, 30, tzinfo=UTC)
    assert builder.parse_local_datetime("2027-02-30T09:00") is None
    assert builder.parse_local_datetime("morgen") is None
    assert builder.local_input("2027-01-05T08:00:00+00:00") == "2027-01-05T09:00"


def test_numbers_are_read_the_dutch_way_and_shown_without_trailing_zeros() -> None:
    assert builder.parse_decimal("1.234,5") == 1234.5
    assert builder.parse_decimal("12,5") == 12.5
    assert builder.parse_decimal("1.000") == 1000
    assert builder.parse_decimal("12.5") == 12.5
    assert builder.parse_decimal("-3") == -3
    assert builder.parse_decimal("veel") is None
    assert builder.parse_decimal("NaN") is None
    assert builder.number_text(10.0) == "10"
    assert builder.number_text(12.5) == "12,5"
    assert builder.number_text(None) == ""


def test_options_are_one_a_line_with_a_value_made_from_the_label_when_none_is_given() -> None:
    options = builder.parse_options("groot | Groot\n\n  Meer dan 10% \n12 uur of langer\n")
    assert options == [
        {"value": "groot", "label": "Groot"},
        {"value": "meer_dan_10", "label": "Meer dan 10%"},
        {"value": "o_12_uur_of_langer", "label": "12 uur of langer"},
    ]
    assert builder.slug("Één café") == "een_cafe"
    assert builder.options_text(options[:1]) == "groot | Groot"


def test_a_condition_value_takes_the_type_of_the_question_it_refers_to() -> None:
    yes_no = {"key": "wifi", "type": "yes_no"}
    number = {"key": "visits", "type": "integer"}
    choice = {
        "key": "kind",
        "type": "single_choice",
        "options": [{"value": "groot", "label": "Groot"}],
    }
    assert builder.condition_value(yes_no, "Ja") is True
    assert builder.condition_value(yes_no, "nee") is False
    assert builder.condition_value(number, "1.000") == 1000
    assert builder.condition_value(choice, "Groot") == "groot"
    assert builder.condition_text(yes_no, True) == "ja"
    assert builder.condition_text(number, 2.5) == "2,5"


# -- forms -------------------------------------------------------------------------------
def test_a_voluntary_survey_drops_the_legal_basis_the_form_still_held() -> None:
    parsed = builder.parse_survey_form(
        _form(
            title=" Monitor 2027 ",
            description="",
            legal_basis="subsidy",
            legal_basis_name="Regeling X",
            opens_at="2027-01-05T09:00",
            closes_at="2027-02-01T17:00",
        ),
        published=False,
    )
    assert parsed.errors == {}
    assert parsed.body["title"] == "Monitor 2027"
    assert parsed.body["mandatory"] is False
    assert parsed.body["legal_basis"] is None
    assert parsed.body["legal_basis_name"] is None
    assert parsed.body["opens_at"] == "2027-01-05T09:00:00+01:00"
    assert parsed.body["series_key"] is None


def test_a_mandatory_wsob_survey_has_no_scheme_name_and_bad_dates_are_named() -> None:
    parsed = builder.parse_survey_form(
        _form(
            title="Wsob",
            mandatory="ja",
            legal_basis="wsob",
            legal_basis_name="iets",
            opens_at="gisteren",
            closes_at="",
        ),
        published=False,
    )
    assert parsed.body["legal_basis"] == "wsob"
    assert parsed.body["legal_basis_name"] is None
    assert set(parsed.errors) == {"opens_at", "closes_at"}


def test_a_published_survey_sends_only_what_may_still_change() -> None:
    parsed = builder.parse_survey_form(
        _form(title="T", description="D", closes_at="2027-02-01T17:00", mandatory="ja"),
        published=True,
    )
    assert parsed.errors == {}
    assert set(parsed.body) == {"title", "description", "closes_at"}


def test_participants_are_all_a_filter_or_a_list() -> None:
    assert builder.parse_participants_form(_form(participants_mode="all")).body == {
        "participants": {"mode": "all"}
    }
    body = builder.parse_participants_form(
        _form(participants_mode="filter", provinces=["Utrecht"], size_classes=["small"])
    ).body
    assert body == {
        "participants": {"mode": "filter", "provinces": ["Utrecht"], "size_classes": ["small"]}
    }
    listed = builder.parse_participants_form(
        _form(participants_mode="list", organisation_ids=["a", "b"], provinces=["Utrecht"])
    ).body
    assert listed == {"participants": {"mode": "list", "organisation_ids": ["a", "b"]}}
    assert "participants_mode" in builder.parse_participants_form(_form()).errors


def test_a_numeric_question_keeps_its_range_and_drops_settings_of_other_types() -> None:
    questionnaire = _questionnaire()
    earlier = builder.questions_before(questionnaire, "budget")
    parsed = builder.parse_question_form(
        _form(
            type="decimal",
            label="Uren",
            required="ja",
            min="0",
            max="1.000,5",
            unit="uur",
            options="a | A",
            per_inhabitant="ja",
            publication="internal",
            show_if_question="wifi",
            show_if_equals="ja",
        ),
        "budget",
        earlier,
    )
    assert parsed.errors == {}
    q = parsed.body
    assert (q["min"], q["max"], q["unit"], q["options"]) == (0, 1000.5, "uur", [])
    assert q["per_inhabitant"] is True
    assert q["required"] is True
    assert q["publication"] == "internal"
    assert q["show_if"] == {"question": "wifi", "equals": True}
    # The result is a question the shared model accepts.
    changed = builder.update_question(questionnaire, "budget", q)
    Questionnaire.model_validate(changed)


def test_a_choice_question_needs_options_and_a_condition_needs_an_earlier_question() -> None:
    questionnaire = _questionnaire()
    parsed = builder.parse_question_form(
        _form(
            type="multiple_choice",
            label="Welke?",
            options="",
            min="5",
            show_if_question="budget",
            show_if_equals="1",
        ),
        "wifi",
        builder.questions_before(questionnaire, "wifi"),
    )
    assert set(parsed.errors) == {"options", "show_if_question"}
    assert parsed.body["min"] is None  # a range belongs to numbers only
    missing_value = builder.parse_question_form(
        _form(type="short_text", label="X", show_if_question="visits"),
        "wifi",
        builder.questions_before(questionnaire, "wifi"),
    )
    assert set(missing_value.errors) == {"show_if_equals"}


def test_a_new_question_gets_a_key_from_its_label_and_choice_questions_two_options() -> None:
    parsed = builder.parse_new_question(
        _form(n_label="Aantal vestigingen", n_type="single_choice"), "n_"
    )
    assert parsed.errors == {}
    assert parsed.body["key"] == "aantal_vestigingen"
    assert len(parsed.body["options"]) == 2
    bad = builder.parse_new_question(_form(key="1x", label="X", type="nope"))
    assert set(bad.errors) == {"key", "type"}


# -- changes -----------------------------------------------------------------------------
def test_moving_deleting_and_adding_keep_the_questionnaire_valid() -> None:
    q = _questionnaire()
    moved = builder.move_question(q, "kind", -1)
    assert [x["key"] for x in moved["sections"][0]["questions"]] == ["visits", "kind", "wifi"]
    assert q["sections"][0]["questions"][1]["key"] == "wifi"  # the original is untouched
    assert builder.move_question(q, "visits", -1) == q  # the first stays first
    sections = builder.move_section(q, "geld", -1)
    assert [s["key"] for s in sections["sections"]] == ["geld", "gebruik"]
    without = builder.delete_question(q, "budget")
    assert [s["key"] for s in without["sections"]] == ["gebruik"]  # its section was empty
    assert without["key_figures"] == ["visits"]
    added = builder.add_question(q, "geld", {"key": "staff", "type": "integer", "label": "Fte"})
    assert builder.locate(added, "staff") == (1, 1)
    new = builder.add_section(
        None,
        {"key": "a", "title": "A", "description": ""},
        {"key": "x", "type": "date", "label": "D"},
    )
    Questionnaire.model_validate(new)
    assert builder.without_empty_questionnaire(builder.delete_section(new, "a")) is None
    with pytest.raises(builder.NotFound):
        builder.locate(q, "nope")


def test_key_figures_follow_the_questionnaire_order_and_leave_with_a_type_change() -> None:
    q = _questionnaire()
    assert builder.set_key_figures(q, ["budget", "visits"])["key_figures"] == ["visits", "budget"]
    changed = builder.update_question(
        q, "visits", {**q["sections"][0]["questions"][0], "type": "short_text"}
    )
    assert changed["key_figures"] == ["budget"]


# -- the API's errors --------------------------------------------------------------------
def test_the_apis_errors_about_a_question_land_beside_its_fields() -> None:
    q = _questionnaire()
    errors = [
        {
            "field": "questionnaire.sections.0.questions.1.label",
            "message": "too short",
            "type": "string_too_short",
        },
        {
            "field": "questionnaire.sections.0.questions.1",
            "message": "question 'wifi': min is greater than max",
            "type": "value_error",
        },
        {
            "field": "questionnaire",
            "message": "question 'wifi': show_if value does not fit question 'visits'",
            "type": "value_error",
        },
        {
            "field": "questionnaire.sections.1.title",
            "message": "too short",
            "type": "string_too_short",
        },
    ]
    fields, rest = builder.question_errors("nl", errors, q, "wifi")
    assert fields == {
        "label": "Vul dit veld in.",
        "min": "Het minimum is groter dan het maximum.",
        "show_if_equals": "Dit antwoord past niet bij de vraag van de voorwaarde.",
    }
    assert rest == ["Vul dit veld in."]
    english, _ = builder.question_errors("en", errors[:1], q, "wifi")
    assert english == {"label": "Fill in this field."}


def test_the_apis_errors_about_a_surveys_facts_are_dutch_and_by_field() -> None:
    fields, rest = builder.survey_errors(
        "nl",
        [
            {
                "field": "closes_at",
                "message": "The survey must close after it opens.",
                "type": "before_opens_at",
            },
            {"field": "legal_basis", "message": "…", "type": "required"},
            {
                "field": "participants",
                "message": "No organisation takes part",
                "type": "no_participants",
            },
            {
                "field": "questionnaire",
                "message": "Add a questionnaire before publishing.",
                "type": "required",
            },
        ],
    )
    assert fields == {
        "closes_at": "Het onderzoek moet sluiten nadat het opent.",
        "legal_basis": "Een verplicht onderzoek heeft een grondslag nodig.",
        "participants_mode": "Er doet nog geen bibliotheek mee; kies er minstens één.",
    }
    assert rest == ["Voeg eerst een vragenlijst toe."]
    unknown = builder.api_message("nl", {"field": "x", "message": "Something new", "type": "odd"})
    assert unknown == "Deze waarde klopt niet. (Something new)"


def test_the_echo_of_a_failed_question_in_its_list_is_left_out() -> None:
    q = _questionnaire()
    errors = [
        {
            "field": "questionnaire.sections.0.questions.1",
            "message": "question 'wifi': min is greater than max",
            "type": "value_error",
        },
        {
            "field": "questionnaire.sections",
            "message": "Tuple should have at least 1 item after validation, not 0",
            "type": "too_short",
        },
    ]
    fields, rest = builder.question_errors("nl", errors, q, "wifi")
    assert fields == {"min": "Het minimum is groter dan het maximum."}
    assert rest == []
