"""The open dataset of a survey: columns, rows, withholding, CSV and JSON files."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from bibmon_common.questionnaire import Questionnaire
from bibmon_demo.data import DEMO_QUESTIONNAIRE, demo_answers
from bibmon_reporting.opendata.dataset import (
    ORGANISATION_COLUMNS,
    CountedAnswers,
    OrganisationInfo,
    SurveyInfo,
    build_dataset,
    neutralise,
    render_csv,
    render_files,
)
from bibmon_reporting.opendata.licence import LICENCES

CC0 = LICENCES["CC0-1.0"]
SURVEY = SurveyInfo(uuid.UUID(int=1), "Wsob-gegevenslevering 2025", "wsob-jaarlijks", 2025)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
ORG_A = OrganisationInfo(
    uuid.UUID(int=10), "Bibliotheek Aa", "Utrecht", ("Utrecht", "De Bilt"), "groot"
)
ORG_B = OrganisationInfo(uuid.UUID(int=11), "=Bieb B", "Zeeland", ("Goes",), "klein")
ORGS = {o.organisation_id: o for o in (ORG_A, ORG_B)}

QUESTIONNAIRE = Questionnaire.model_validate(
    {
        "sections": [
            {
                "key": "cijfers",
                "title": "Cijfers",
                "questions": [
                    {"key": "visits", "type": "integer", "label": "Bezoeken", "unit": "bezoeken"},
                    {"key": "result", "type": "decimal", "label": "Resultaat", "unit": "EUR"},
                    {
                        "key": "internal_only",
                        "type": "integer",
                        "label": "X",
                        "publication": "internal",
                    },
                    {"key": "province", "type": "yes_no", "label": "Provinciale taak?"},
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
            },
            {
                "key": "tekst",
                "title": "Toelichting",
                "questions": [
                    {"key": "remarks", "type": "long_text", "label": "Toelichting"},
                    {
                        "key": "public_note",
                        "type": "short_text",
                        "label": "Openbare noot",
                        "publication": "public",
                    },
                ],
            },
        ]
    }
)


def _answers(**answers: Any) -> dict[str, Any]:
    return answers


def _dataset(*subs: CountedAnswers, questionnaires: dict[int, Questionnaire] | None = None) -> Any:
    return build_dataset(SURVEY, questionnaires or {1: QUESTIONNAIRE}, ORGS, subs)


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_columns_are_the_organisation_then_the_public_questions_in_order() -> None:
    dataset = _dataset()
    assert dataset.keys == [
        "organisation_id",
        "organisation_source_code",
        "organisation_name",
        "province",
        "municipalities",
        "size_class",
        "visits",
        "result",
        "question_province",
        "focus",
        "public_note",
    ]


def test_internal_and_default_free_text_answers_never_reach_a_file() -> None:
    sub = CountedAnswers(
        ORG_A.organisation_id,
        1,
        _answers(visits=10, internal_only=987654321, remarks="geheim-intern-tekst"),
    )
    files = render_files(_dataset(sub), version=1, published_at=NOW, licence=CC0)
    for _, content in files.items():
        assert b"987654321" not in content
        assert b"geheim-intern-tekst" not in content
        assert b"internal_only" not in content


def test_one_row_per_counted_submission_ordered_by_organisation_name() -> None:
    dataset = _dataset(
        CountedAnswers(ORG_A.organisation_id, 1, _answers(visits=5)),
        CountedAnswers(ORG_B.organisation_id, 1, _answers(visits=7)),
    )
    rows = _csv_rows(render_csv(dataset))
    assert [r["organisation_id"] for r in rows] == [
        str(ORG_B.organisation_id),  # "=Bieb B" sorts before "Bibliotheek Aa"
        str(ORG_A.organisation_id),
    ]
    assert rows[1]["organisation_name"] == "Bibliotheek Aa"
    assert rows[1]["municipalities"] == "Utrecht;De Bilt"
    assert rows[1]["province"] == "Utrecht"
    assert rows[1]["size_class"] == "groot"
    assert rows[1]["organisation_source_code"] == ""
    assert rows[1]["visits"] == "5"


def test_csv_cells_that_start_a_formula_are_neutralised_but_negative_numbers_stay_numbers() -> None:
    sub = CountedAnswers(
        ORG_B.organisation_id,
        1,
        _answers(result=-12.5, public_note='=HYPERLINK("http://x")', visits=-3),
    )
    row = _csv_rows(render_csv(_dataset(sub)))[0]
    assert row["organisation_name"] == "'=Bieb B"
    assert row["public_note"] == '\'=HYPERLINK("http://x")'
    assert row["result"] == "-12.5"
    assert row["visits"] == "-3"


def test_neutralise_covers_every_formula_prefix() -> None:
    for text in ("=1+1", "+1+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "-", "+31"):
        assert neutralise(text) == "'" + text
    for text in ("-12", "-0.5", "12", "Bibliotheek", "", "a=b"):
        assert neutralise(text) == text


def test_json_keeps_values_typed_and_unaltered() -> None:
    sub = CountedAnswers(
        ORG_B.organisation_id,
        1,
        _answers(result=-12.5, province=True, focus=["lezen", "digitaal"], public_note="=1+1"),
    )
    files = render_files(_dataset(sub), version=3, published_at=NOW, licence=CC0)
    document = json.loads(files.json)
    assert document["dataset_version"] == 3
    assert document["licence"]["url"] == "http://creativecommons.org/publicdomain/zero/1.0/"
    assert document["survey"]["series_key"] == "wsob-jaarlijks"
    row = document["rows"][0]
    assert row["organisation_name"] == "=Bieb B"
    assert row["result"] == -12.5
    assert row["question_province"] is True
    assert row["focus"] == ["lezen", "digitaal"]
    assert row["public_note"] == "=1+1"
    assert row["visits"] is None
    csv_row = _csv_rows(files.csv)[0]
    assert csv_row["question_province"] == "true"
    assert csv_row["focus"] == "lezen;digitaal"
    assert csv_row["visits"] == ""


def test_a_tiny_decimal_is_written_without_an_exponent() -> None:
    sub = CountedAnswers(ORG_A.organisation_id, 1, _answers(result=0.00001))
    assert _csv_rows(render_csv(_dataset(sub)))[0]["result"] == "0.00001"


def test_public_free_text_that_names_or_reaches_a_person_is_withheld() -> None:
    notes = {
        uuid.UUID(int=20): "Mail j.jansen@bieb.nl",
        uuid.UUID(int=21): "Bel 06-12345678",
        uuid.UUID(int=22): "Geteld door Jan de Vries",
        uuid.UUID(int=23): "Een vestiging was dicht voor verbouwing.",
    }
    orgs = {
        org_id: OrganisationInfo(org_id, f"Bieb {i}", "Utrecht", (), "klein")
        for i, org_id in enumerate(notes)
    }
    subs = [CountedAnswers(org_id, 1, {"public_note": note}) for org_id, note in notes.items()]
    dataset = build_dataset(SURVEY, {1: QUESTIONNAIRE}, orgs, subs)
    files = render_files(dataset, version=1, published_at=NOW, licence=CC0)
    assert dataset.withheld == 3
    published = {r["organisation_id"]: r["public_note"] for r in _csv_rows(files.csv)}
    assert published[str(uuid.UUID(int=23))] == "Een vestiging was dicht voor verbouwing."
    for org_id in list(notes)[:3]:
        assert published[str(org_id)] == ""
    for _, content in files.items():
        for secret in (b"j.jansen@bieb.nl", b"06-12345678", b"Jan de Vries"):
            assert secret not in content


def test_an_answer_to_an_older_version_counts_only_where_that_version_asked_the_same() -> None:
    old = Questionnaire.model_validate(
        {
            "sections": [
                {
                    "key": "cijfers",
                    "title": "Cijfers",
                    "questions": [
                        {"key": "visits", "type": "integer", "label": "Bezoeken"},
                        # A different type then: its answers do not fit today's column.
                        {"key": "result", "type": "short_text", "label": "Resultaat"},
                        # Not public then: its answers stay unpublished.
                        {
                            "key": "focus",
                            "type": "integer",
                            "label": "F",
                            "publication": "internal",
                        },
                    ],
                }
            ]
        }
    )
    sub = CountedAnswers(ORG_A.organisation_id, 1, _answers(visits=4, result="veel", focus=12345))
    dataset = _dataset(sub, questionnaires={1: old, 2: QUESTIONNAIRE})
    row = dict(zip(dataset.keys, dataset.rows[0], strict=True))
    assert row["visits"] == 4
    assert row["result"] is None
    assert row["focus"] is None


def test_files_are_deterministic_and_the_fingerprint_ignores_version_and_date() -> None:
    subs = [CountedAnswers(o, 1, demo_answers(o, 2025)) for o in ORGS]
    demo = {1: DEMO_QUESTIONNAIRE}
    first = render_files(
        build_dataset(SURVEY, demo, ORGS, subs), version=1, published_at=NOW, licence=CC0
    )
    again = render_files(
        build_dataset(SURVEY, demo, ORGS, list(reversed(subs))),
        version=2,
        published_at=datetime(2026, 4, 1, tzinfo=UTC),
        licence=CC0,
    )
    assert first.csv == again.csv
    assert first.dictionary == again.dictionary
    assert first.json != again.json
    assert first.fingerprint == again.fingerprint
    changed = [subs[0], CountedAnswers(subs[1].organisation_id, 1, {**subs[1].answers, "loans": 1})]
    corrected = render_files(
        build_dataset(SURVEY, demo, ORGS, changed), version=2, published_at=NOW, licence=CC0
    )
    assert corrected.fingerprint != first.fingerprint


def test_the_dictionary_describes_every_column_with_its_series() -> None:
    files = render_files(_dataset(), version=1, published_at=NOW, licence=CC0)
    dictionary = json.loads(files.dictionary)
    columns = {c["key"]: c for c in dictionary["columns"]}
    assert list(columns) == _dataset().keys
    assert columns["visits"] == {
        "key": "visits",
        "question_key": "visits",
        "label": "Bezoeken",
        "type": "integer",
        "unit": "bezoeken",
        "section": "cijfers",
        "section_title": "Cijfers",
        "series_key": "wsob-jaarlijks",
        "help": "",
        "options": [],
    }
    assert columns["question_province"]["question_key"] == "province"
    assert columns["focus"]["options"] == [
        {"value": "lezen", "label": "Lezen"},
        {"value": "digitaal", "label": "Digitaal"},
    ]
    assert [c["key"] for c in dictionary["columns"][: len(ORGANISATION_COLUMNS)]] == [
        name for name, _, _ in ORGANISATION_COLUMNS
    ]
    assert dictionary["licence"]["id"] == "CC0-1.0"


def test_a_key_means_the_same_in_every_year_of_a_series() -> None:
    next_year = SurveyInfo(uuid.UUID(int=2), "Wsob-gegevenslevering 2026", "wsob-jaarlijks", 2026)
    this = json.loads(render_files(_dataset(), version=1, published_at=NOW, licence=CC0).dictionary)
    that = json.loads(
        render_files(
            build_dataset(next_year, {1: QUESTIONNAIRE}, ORGS, []),
            version=1,
            published_at=NOW,
            licence=CC0,
        ).dictionary
    )
    assert this["columns"] == that["columns"]
    assert this["survey"]["year"] == 2025
    assert that["survey"]["year"] == 2026


def test_the_csv_is_utf8_with_a_header_and_crlf_rows() -> None:
    org = OrganisationInfo(uuid.UUID(int=30), "Bibliotheek Súdwest-Fryslân", "Fryslân", (), "groot")
    data = render_csv(
        build_dataset(
            SURVEY,
            {1: QUESTIONNAIRE},
            {org.organisation_id: org},
            [CountedAnswers(org.organisation_id, 1, {"visits": 1})],
        )
    )
    assert not data.startswith(b"\xef\xbb\xbf")
    lines = data.split(b"\r\n")
    assert lines[0].startswith(b"organisation_id,organisation_source_code,organisation_name")
    assert "Súdwest-Fryslân".encode() in lines[1]
    assert lines[2] == b""
