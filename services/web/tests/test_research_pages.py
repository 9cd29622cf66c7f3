"""The researchers' pages render in both languages with every variable they need, and
every Dutch text of them has an English translation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from bibmon_common.questionnaire import Questionnaire
from bibmon_web import builder
from bibmon_web.config import WebSettings
from bibmon_web.main import create_app
from bibmon_web.messages_en import EN
from bibmon_web.pages import render
from bibmon_web.routes import research
from bibmon_web.routes.questionnaires import STATUS_LABELS, Loaded, question_views

APP = create_app(WebSettings(log_json=False))
TEMPLATES = Path(research.__file__).parents[1] / "templates" / "research"
SURVEY_ID = "3b4e28ba-2fa1-11d2-883f-0016d3cca427"
ORG_ID = "2b4e28ba-2fa1-11d2-883f-0016d3cca427"


def _request(lang: str, roles: list[str], htmx: bool = False) -> Request:
    headers = [(b"cookie", f"bibmon_lang={lang}; bibmon_access=t".encode())]
    if htmx:
        headers.append((b"hx-request", b"true"))
    request = Request(
        {
            "type": "http",
            "app": APP,
            "method": "GET",
            "path": "/x",
            "query_string": b"",
            "headers": headers,
            "state": {},
        }
    )
    request.state.csrf_token = "c" * 43
    request.state.me = {"id": "u", "name": "Onderzoeker", "roles": roles, "organisation_id": None}
    return request


QUESTIONNAIRE = Questionnaire.model_validate(
    {
        "sections": [
            {
                "key": "gebruik",
                "title": "Gebruik <b>",
                "questions": [
                    {"key": "wifi", "type": "yes_no", "label": "Gratis wifi?", "required": True},
                    {
                        "key": "hotspots",
                        "type": "integer",
                        "label": "Aantal hotspots",
                        "min": 0,
                        "max": 50,
                        "show_if": {"question": "wifi", "equals": True},
                        "per_inhabitant": True,
                        "publication": "internal",
                    },
                    {
                        "key": "kind",
                        "type": "multiple_choice",
                        "label": "Soort",
                        "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
                    },
                ],
            }
        ],
        "key_figures": ["hotspots"],
    }
).model_dump(mode="json")


def _survey(status: str) -> dict[str, Any]:
    return {
        "id": SURVEY_ID,
        "title": "Wsob-monitor 2027",
        "description": "De jaarlijkse levering.",
        "mandatory": True,
        "legal_basis": "wsob",
        "legal_basis_name": None,
        "opens_at": "2027-01-05T08:00:00+00:00",
        "closes_at": "2027-02-01T16:00:00+00:00",
        "series_key": "wsob",
        "participants": {"mode": "list", "organisation_ids": [ORG_ID]},
        "participant_ids": None if status == "draft" else [ORG_ID],
        "status": status,
        "questionnaire": QUESTIONNAIRE,
        "questionnaire_version": None if status == "draft" else 2,
        "updated_at": "2026-11-29T12:00:00+00:00",
    }


def _builder_values(survey: dict[str, Any]) -> dict[str, Any]:
    by_key = {q["key"]: q for s in QUESTIONNAIRE["sections"] for q in s["questions"]}
    return {
        "survey": survey,
        "questionnaire": QUESTIONNAIRE,
        "by_key": by_key,
        "numeric": [by_key["hotspots"]],
        "errors": {"title": "Vul dit veld in."},
        "summary": ["Iets anders"],
        "values": {},
        "facts": {"title": survey["title"], "mandatory": "ja", "legal_basis": "wsob"},
        "notice": "",
        "focus": "",
        "survey_status": builder.SURVEY_STATUS,
        "question_types": builder.QUESTION_TYPES,
        "publication": builder.PUBLICATION,
        "organisations": [{"id": ORG_ID, "name": "Bibliotheek Voorbeeld"}],
        "provinces": ["Utrecht"],
        "size_classes": [("small", "klein")],
        "local_input": builder.local_input,
        "condition_text": builder.condition_text,
        "number_text": builder.number_text,
        "published": survey["status"] != "draft",
    }


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("status", ["draft", "open", "closed"])
def test_the_builder_shows_questions_conditions_and_errors(lang: str, status: str) -> None:
    body = render(
        _request(lang, ["researcher"]), "research/builder.html", **_builder_values(_survey(status))
    ).body.decode()
    assert "Gebruik &lt;b&gt;" in body  # escaped
    assert 'id="vraag-hotspots"' in body
    assert (
        "Alleen als ‘Gratis wifi?’ is: ja" if lang == "nl" else "Only if ‘Gratis wifi?’ is: ja"
    ) in body
    assert 'href="#title"' in body  # the summary leads to the field
    assert 'href="/beheer/onderzoeken"' in body  # the researcher's menu
    assert ("/publiceren" in body) == (status == "draft")
    assert ("/sluiten" in body) == (status == "open")
    assert ('name="updated_at"' in body) == (status != "closed")


def test_the_question_editor_inline_posts_back_into_the_builder() -> None:
    survey = _survey("draft")
    question = QUESTIONNAIRE["sections"][0]["questions"][1]
    values = {
        "survey": survey,
        "question": question,
        "section": QUESTIONNAIRE["sections"][0],
        "earlier": QUESTIONNAIRE["sections"][0]["questions"][:1],
        "values": {
            "type": "integer",
            "label": question["label"],
            "help": "",
            "required": "",
            "min": "0",
            "max": "50",
            "unit": "",
            "options": "",
            "show_if_question": "wifi",
            "show_if_equals": "ja",
            "publication": "internal",
            "per_inhabitant": "ja",
        },
        "errors": {"max": "Het minimum is groter dan het maximum."},
        "summary": [],
        "question_types": builder.QUESTION_TYPES,
        "publication": builder.PUBLICATION,
        "published": False,
    }
    page = render(_request("nl", ["researcher"]), "research/question.html", **values).body.decode()
    assert "hx-post" not in page  # without htmx a plain form
    assert 'aria-invalid="true"' in page
    assert 'href="#max"' in page
    assert '<option value="wifi" selected>' in page
    inline = render(
        _request("en", ["researcher"], htmx=True), "research/question.html", **values
    ).body.decode()
    assert 'hx-target="#bouwer"' in inline
    assert "autofocus" in inline


def test_the_preview_uses_the_questionnaire_blocks_and_shows_conditions() -> None:
    questionnaire = Questionnaire.model_validate(QUESTIONNAIRE)
    survey = _survey("draft")
    for answers, hotspots_shown in (({}, False), ({"wifi": True}, True)):
        response = {"answers": answers, "warnings": [], "previous_answers": {}}
        views = question_views("nl", Loaded(survey, response, questionnaire))
        page = render(
            _request("nl", ["researcher"]),
            "research/preview.html",
            survey=survey,
            response=response,
            questionnaire=questionnaire,
            views=views,
            facts={"basis": "Wsob", "basis_name": ""},
            shown=2 + hotspots_shown,
        ).body.decode()
        assert ('name="a.hotspots"' in page) == hotspots_shown
        assert 'name="a.wifi"' in page
        assert "niet opgeslagen" in page


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_lists_progress_review_reports_and_confirmation_render(lang: str) -> None:
    request = _request(lang, ["researcher"])
    survey = _survey("closed")
    render(request, "research/surveys.html", surveys=[survey], survey_status=builder.SURVEY_STATUS)
    render(request, "research/survey_new.html", values={}, errors={}, summary=[])
    entry = {
        "organisation_id": ORG_ID,
        "status": "submitted",
        "submission": 2,
        "submitted_at": "2027-01-20T10:00:00+00:00",
        "name": "Bibliotheek Voorbeeld",
    }
    page = render(
        request,
        "research/progress.html",
        survey=survey,
        progress={"total": 1, "counts": {"submitted": 1}},
        rows=[entry],
        order=list(research.PROGRESS_ORDER),
        status_labels=STATUS_LABELS,
    ).body.decode()
    assert f"/organisaties/{ORG_ID}" in page
    q = Questionnaire.model_validate(QUESTIONNAIRE)
    review = render(
        request,
        "research/review.html",
        survey=survey,
        entry=entry,
        organisation_id=ORG_ID,
        name="Bibliotheek Voorbeeld",
        response={"remark": None, "answers": {}},
        sections=[
            {
                "section": q.sections[0],
                "rows": [
                    {
                        "q": q.sections[0].questions[0],
                        "answer": "Ja",
                        "previous": "Nee",
                        "warning": "Groot verschil",
                        "explanation": "Nieuw beleid",
                    }
                ],
            }
        ],
        history=[
            {
                "submission": 1,
                "submitted_at": "2027-01-10T10:00:00+00:00",
                "review": "returned",
                "reviewed_at": "2027-01-11T10:00:00+00:00",
                "remark": "Klopt niet",
            }
        ],
        status_labels=STATUS_LABELS,
        is_researcher=True,
        errors={},
        values={},
        notice="",
    ).body.decode()
    assert "/accepteren" in review
    assert "/terugsturen" in review
    assert "/heropenen" in review
    assert "Nieuw beleid" in review
    assert "Klopt niet" in review
    render(
        request,
        "research/reports.html",
        rows=[
            {
                "survey": survey,
                "reports": [{"organisation_id": ORG_ID, "name": "B", "province": None}],
            }
        ],
        survey_status=builder.SURVEY_STATUS,
    )
    for action in ("publiceren", "sluiten"):
        render(
            request,
            "research/confirm.html",
            survey=survey,
            action=action,
            participants={"total": 3},
            summary=["Er doet nog geen bibliotheek mee; kies er minstens één."],
        )


def test_library_staff_see_no_researchers_menu() -> None:
    body = render(
        _request("nl", ["library_staff"]),
        "research/surveys.html",
        surveys=[],
        survey_status=builder.SURVEY_STATUS,
    ).body.decode()
    assert 'href="/beheer/onderzoeken"' not in body


def test_every_dutch_text_of_the_researchers_pages_has_an_english_translation() -> None:
    texts: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text(encoding="utf-8")
        texts.update(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', source))
        texts.update(re.findall(r"_\(\s*'((?:[^'\\]|\\.)*)'", source))
    source = Path(research.__file__).read_text(encoding="utf-8")
    texts.update(re.findall(r'_t\(\s*request,\s*"((?:[^"\\]|\\.)*)"', source))
    for table in (
        builder.QUESTION_TYPES,
        builder.PUBLICATION,
        builder.SURVEY_STATUS,
        builder.API_TYPES,
        builder.API_CODES,
        research.NOTICES,
        research.REVIEW_NOTICES,
        research.SIZE_LABELS,
    ):
        texts.update(table.values())
    texts.update(dutch for _, dutch in builder.API_MESSAGES)
    source = Path(builder.__file__).read_text(encoding="utf-8")
    texts.update(re.findall(r'errors\[[^\]]+\] = \(?\s*"((?:[^"\\]|\\.)*)"', source))
    texts.update([research.STALE, builder.KEY_HELP])
    assert len(texts) > 150
    assert sorted(t for t in texts if t not in EN) == []


def test_a_kb_administrator_sees_the_status_and_may_reopen_but_reads_no_answers() -> None:
    entry = {
        "organisation_id": ORG_ID,
        "status": "accepted",
        "submission": 1,
        "submitted_at": "2027-01-20T10:00:00+00:00",
    }
    page = render(
        _request("nl", ["kb_admin"]),
        "research/review.html",
        survey=_survey("closed"),
        entry=entry,
        organisation_id=ORG_ID,
        name="Bibliotheek Voorbeeld",
        response=None,
        sections=[],
        history=[],
        status_labels=STATUS_LABELS,
        is_researcher=False,
        errors={},
        values={},
        notice="",
    ).body.decode()
    assert "/heropenen" in page
    assert "/accepteren" not in page
    assert "/terugsturen" not in page
    assert "alleen voor onderzoekers zichtbaar" in page
