"""Demo data: the questionnaire is valid, the answers always fit it and move gently."""

from __future__ import annotations

import uuid

import pytest

from bibmon_common.questionnaire import NUMERIC_TYPES, validate_answers, visible_questions
from bibmon_demo.data import (
    DEMO_CLOSED_SURVEY_ID,
    DEMO_CLOSED_YEAR,
    DEMO_OPEN_SURVEY_ID,
    DEMO_OPEN_YEAR,
    DEMO_QUESTIONNAIRE,
    DEMO_SERIES_KEY,
    demo_answers,
)

ORGANISATIONS = [uuid.UUID(int=i * 7919 + 1) for i in range(300)] + [
    uuid.uuid4() for _ in range(200)
]


def test_fixed_ids_and_series():
    assert str(DEMO_CLOSED_SURVEY_ID) == "45caafc6-6246-5a17-8f83-ce4d33fdb57f"
    assert str(DEMO_OPEN_SURVEY_ID) == "ce6b54a5-1ce6-59ac-ad0e-1e542023fd02"
    assert DEMO_SERIES_KEY == "wsob-jaarlijks"
    assert DEMO_OPEN_YEAR == DEMO_CLOSED_YEAR + 1


def test_questionnaire_has_sections_and_several_types():
    titles = [s.title for s in DEMO_QUESTIONNAIRE.sections]
    assert titles == [
        "Collectie en uitleningen",
        "Bezoek en leden",
        "Activiteiten",
        "Personeel en financiën",
    ]
    types = {q.type for q in DEMO_QUESTIONNAIRE.questions()}
    assert types >= {
        "integer",
        "decimal",
        "amount",
        "percentage",
        "yes_no",
        "single_choice",
        "long_text",
    }
    assert 10 <= len(list(DEMO_QUESTIONNAIRE.questions())) <= 16


@pytest.mark.parametrize("year", [DEMO_CLOSED_YEAR - 1, DEMO_CLOSED_YEAR, DEMO_OPEN_YEAR, 2030])
def test_answers_always_validate_completely(year):
    for organisation_id in ORGANISATIONS:
        answers = demo_answers(organisation_id, year)
        assert validate_answers(DEMO_QUESTIONNAIRE, answers, complete=True) == [], answers
        # Nothing hidden is answered (the snapshot would drop it).
        assert set(answers) <= visible_questions(DEMO_QUESTIONNAIRE, answers)


def test_answers_are_deterministic():
    organisation_id = uuid.UUID("11111111-2222-3333-4444-555555555555")
    first = demo_answers(organisation_id, DEMO_CLOSED_YEAR)
    assert demo_answers(str(organisation_id), DEMO_CLOSED_YEAR) == first
    assert demo_answers(organisation_id, DEMO_CLOSED_YEAR) == first
    assert demo_answers(uuid.UUID(int=5), DEMO_CLOSED_YEAR) != first


def test_the_open_year_stays_within_twenty_percent_of_the_closed_year():
    numeric = [q.key for q in DEMO_QUESTIONNAIRE.questions() if q.type in NUMERIC_TYPES]
    changed = 0
    for organisation_id in ORGANISATIONS:
        closed = demo_answers(organisation_id, DEMO_CLOSED_YEAR)
        open_ = demo_answers(organisation_id, DEMO_OPEN_YEAR)
        for key in numeric:
            if key in closed and key in open_:
                assert abs(open_[key] - closed[key]) <= 0.2 * abs(closed[key]), (key, closed, open_)
                changed += open_[key] != closed[key]
        assert open_["has_branches"] == closed["has_branches"]
        assert open_["main_focus"] == closed["main_focus"]
    assert changed > len(ORGANISATIONS)  # the figures do move


def test_magnitudes_are_those_of_dutch_library_organisations():
    answers = [demo_answers(o, DEMO_CLOSED_YEAR) for o in ORGANISATIONS]
    members = sorted(a["members"] for a in answers)
    assert members[0] > 1_000
    assert members[-1] < 150_000
    for a in answers:
        assert 5 < a["loans"] / a["members"] < 25
        assert 20 < a["budget"] / a["members"] < 400
        assert 0 < a["staff_fte"] < 300
    assert {a["main_focus"] for a in answers} == {
        o.value for o in DEMO_QUESTIONNAIRE.by_key()["main_focus"].options
    }
    assert any(a["has_branches"] for a in answers)
    assert not all(a["has_branches"] for a in answers)
