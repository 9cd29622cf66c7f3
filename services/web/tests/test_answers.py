"""Form fields ↔ API answers: Dutch numbers, choices, and only what the person changed."""

from __future__ import annotations

from starlette.datastructures import FormData

from bibmon_common.questionnaire import Questionnaire
from bibmon_web.answers import Invalid, changes, encode, original_text, parse

QUESTIONNAIRE = Questionnaire.model_validate(
    {
        "sections": [
            {
                "key": "s",
                "title": "Onderdeel",
                "questions": [
                    {"key": "members", "type": "integer", "label": "Leden"},
                    {"key": "fte", "type": "decimal", "label": "Fte"},
                    {"key": "costs", "type": "amount", "label": "Lasten"},
                    {"key": "branches", "type": "yes_no", "label": "Vestigingen?"},
                    {
                        "key": "count",
                        "type": "integer",
                        "label": "Aantal",
                        "show_if": {"question": "branches", "equals": True},
                    },
                    {
                        "key": "focus",
                        "type": "multiple_choice",
                        "label": "Speerpunten",
                        "options": [
                            {"value": "lezen", "label": "Lezen"},
                            {"value": "digitaal", "label": "Digitaal"},
                        ],
                    },
                ],
            }
        ]
    }
)
Q = QUESTIONNAIRE.by_key()


def form(*pairs: tuple[str, str]) -> FormData:
    return FormData(list(pairs))


def test_dutch_numbers_are_read_as_a_dutch_reader_means_them() -> None:
    assert parse(Q["members"], form(("a.members", "1.234"))) == 1234
    assert parse(Q["fte"], form(("a.fte", "35,3"))) == 35.3
    assert parse(Q["costs"], form(("a.costs", "€ 4.444.626,87"))) == 4444626.87
    assert parse(Q["fte"], form(("a.fte", "12"))) == 12
    assert isinstance(parse(Q["members"], form(("a.members", "12,5"))), Invalid)
    assert isinstance(parse(Q["fte"], form(("a.fte", "veel"))), Invalid)
    assert parse(Q["members"], form(("a.members", ""))) is None


def test_values_are_written_back_the_dutch_way() -> None:
    assert encode(Q["fte"], 35.3) == "35,3"
    assert encode(Q["costs"], 1234567.5) == "1234567,5"
    assert encode(Q["members"], 1200) == "1200"
    assert encode(Q["branches"], True) == "ja"
    assert encode(Q["focus"], ["digitaal"]) == ["digitaal"]
    assert encode(Q["fte"], None) == ""


def test_a_save_sends_only_the_shown_questions_the_person_changed() -> None:
    data = form(
        ("q", "members"),
        ("o.members", "1200"),
        ("a.members", "1200"),  # unchanged: not sent, so a colleague's change stays
        ("q", "fte"),
        ("o.fte", "3,5"),
        ("a.fte", "4,5"),
        ("q", "focus"),
        ("o.focus", "lezen"),
        ("a.focus", "digitaal"),
        ("a.focus", "lezen"),
        ("q", "branches"),
        ("o.branches", "ja"),
        ("a.branches", "nee"),
        ("a.costs", "99"),  # not a shown question: ignored
    )
    found = changes(QUESTIONNAIRE, data)
    assert found.answers == {"fte": 4.5, "focus": ["lezen", "digitaal"], "branches": False}
    assert found.invalid == {}


def test_a_cleared_field_is_sent_as_null_and_bad_input_stays_local() -> None:
    data = form(
        ("q", "members"),
        ("o.members", "1200"),
        ("a.members", ""),
        ("q", "fte"),
        ("o.fte", ""),
        ("a.fte", "veel"),
    )
    found = changes(QUESTIONNAIRE, data)
    assert found.answers == {"members": None}
    assert found.invalid == {"fte": "Vul een getal in, bijvoorbeeld 12,5."}
    assert found.raw["fte"] == "veel"
    assert original_text(Q["focus"], ["lezen", "digitaal"]) == "digitaal,lezen"
