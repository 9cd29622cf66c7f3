"""The open dataset of one closed survey: rows, data dictionary, and its CSV and JSON files.

Pure functions over reporting's read models, so every rule here is unit-tested without a
database. One row per organisation with a counted submission: the organisation's public
master data, then one column per question that the questionnaire marks `public`
(`Question.effective_publication`). Library level only: no user, person's name, e-mail
or user id is an input, so none can be an output; free text marked public still goes
through `pii.must_withhold`.

Columns are the question keys, which the questionnaire keeps stable across the versions
and years of a series, so a key means the same thing in every year's dataset. A question
key that equals one of the organisation columns is published as `question_<key>`.

CSV (RFC 4180: comma, CRLF, header row, UTF-8 without BOM): numbers with a decimal point
and no thousands separator, yes/no as `true`/`false`, a multiple choice as its option
values joined by `;`, a date as YYYY-MM-DD, not answered or withheld as an empty cell.
A spreadsheet runs a cell starting with `=`, `+`, `-`, `@`, tab or CR as a formula, so
such a cell gets a leading `'` (the OWASP advice) — unless the whole cell is a plain
decimal number such as `-12.5`: a formula needs more than digits, so a negative number
stays a number a spreadsheet can sum. The JSON file carries the unaltered values, typed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from bibmon_common.questionnaire import NUMERIC_TYPES, TEXT_TYPES, Question, Questionnaire
from bibmon_reporting.opendata.licence import Licence
from bibmon_reporting.opendata.pii import must_withhold

SCHEMA_VERSION = 1
ORGANISATION_SECTION = "organisation"
# Fixed names of the organisation columns, in file order.
ORGANISATION_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("organisation_id", "uuid", "Vaste id van de bibliotheekorganisatie in de Bibliotheekmonitor"),
    (
        "organisation_source_code",
        "string",
        "Code van de organisatie in de bronregistratie (leeg zolang die er niet is)",
    ),
    ("organisation_name", "string", "Naam van de bibliotheekorganisatie"),
    ("province", "string", "Provincie"),
    ("municipalities", "list", "Gemeenten in het werkgebied, gescheiden door ;"),
    ("size_class", "string", "Grootteklasse (naar aantal inwoners van het werkgebied)"),
)
_RESERVED = frozenset(name for name, _, _ in ORGANISATION_COLUMNS)
LIST_SEPARATOR = ";"
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_FORMULA_START = frozenset("=+-@\t\r")


@dataclass(frozen=True)
class SurveyInfo:
    """What the dataset says about its survey."""

    survey_id: UUID
    title: str
    series_key: str | None
    year: int


@dataclass(frozen=True)
class OrganisationInfo:
    """An organisation's public master data, as identity published it."""

    organisation_id: UUID
    name: str
    province: str
    municipalities: tuple[str, ...]
    size_class: str
    # Identity has no code of a source register (CBS, KB) yet; the column is there so
    # the file layout need not change when it does.
    source_code: str | None = None


@dataclass(frozen=True)
class CountedAnswers:
    """An organisation's counted submission: the answers and the version they answer."""

    organisation_id: UUID
    questionnaire_version: int
    answers: Mapping[str, Any]


@dataclass(frozen=True)
class DictionaryEntry:
    """One column of the dataset, as the data dictionary describes it."""

    key: str
    label: str
    type: str
    section: str
    section_title: str
    series_key: str | None
    question_key: str | None = None
    unit: str = ""
    help: str = ""
    options: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The entry as the dictionary file lists it."""
        return {
            "key": self.key,
            "question_key": self.question_key,
            "label": self.label,
            "type": self.type,
            "unit": self.unit,
            "section": self.section,
            "section_title": self.section_title,
            "series_key": self.series_key,
            "help": self.help,
            "options": [{"value": v, "label": label} for v, label in self.options],
        }


@dataclass(frozen=True)
class Dataset:
    """The rows and columns of one survey's open dataset, before it is written to files."""

    survey: SurveyInfo
    columns: tuple[DictionaryEntry, ...]
    # One list of JSON-typed values per organisation, in column order.
    rows: list[list[Any]]
    withheld: int = 0

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


@dataclass(frozen=True)
class DatasetFiles:
    """The three published files of one dataset version."""

    csv: bytes
    json: bytes
    dictionary: bytes
    row_count: int
    # Over the CSV and the dictionary only: equal fingerprints mean an unchanged dataset.
    fingerprint: str = field(default="")

    def items(self) -> list[tuple[str, bytes]]:
        """(file kind, content) in a fixed order."""
        return [("csv", self.csv), ("json", self.json), ("dictionary", self.dictionary)]


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256, as the events and the catalogue give it."""
    return hashlib.sha256(data).hexdigest()


def _question_column(key: str) -> str:
    return f"question_{key}" if key in _RESERVED else key


def dictionary_entries(
    survey: SurveyInfo, questionnaire: Questionnaire
) -> tuple[DictionaryEntry, ...]:
    """Every column: the organisation's, then the questionnaire's public questions in order."""
    entries = [
        DictionaryEntry(
            key=name,
            label=label,
            type=type_,
            section=ORGANISATION_SECTION,
            section_title="Organisatie",
            series_key=survey.series_key,
        )
        for name, type_, label in ORGANISATION_COLUMNS
    ]
    for section in questionnaire.sections:
        for question in section.questions:
            if question.effective_publication != "public":
                continue
            entries.append(
                DictionaryEntry(
                    key=_question_column(question.key),
                    question_key=question.key,
                    label=question.label,
                    type=question.type,
                    unit=question.unit,
                    help=question.help,
                    section=section.key,
                    section_title=section.title,
                    series_key=survey.series_key,
                    options=tuple((o.value, o.label) for o in question.options),
                )
            )
    return tuple(entries)


def _publishable_keys(
    latest: Questionnaire, questionnaires: Mapping[int, Questionnaire]
) -> dict[int, frozenset[str]]:
    """Per questionnaire version: the public question keys whose answers may be published.

    A column follows the latest version; an answer to an older version enters it only
    when that version asked the same type of question and marked it public too.
    """
    public = {q.key: q for q in latest.questions() if q.effective_publication == "public"}
    allowed: dict[int, frozenset[str]] = {}
    for version, questionnaire in questionnaires.items():
        allowed[version] = frozenset(
            q.key
            for q in questionnaire.questions()
            if q.key in public
            and q.type == public[q.key].type
            and q.effective_publication == "public"
        )
    return allowed


def _kind(question: Question) -> str:
    """How a column's values are checked and written."""
    if question.type in NUMERIC_TYPES:
        return "number"
    if question.type in TEXT_TYPES:
        return "text"
    if question.type == "yes_no":
        return "bool"
    if question.type == "multiple_choice":
        return "list"
    return "string"  # single choice (an option key) and date (YYYY-MM-DD)


def build_dataset(
    survey: SurveyInfo,
    questionnaires: Mapping[int, Questionnaire],
    organisations: Mapping[UUID, OrganisationInfo],
    submissions: Iterable[CountedAnswers],
) -> Dataset:
    """The open dataset: one row per counted submission, ordered by organisation name and id."""
    if not questionnaires:
        raise ValueError("a dataset needs the survey's questionnaire")
    latest = questionnaires[max(questionnaires)]
    columns = dictionary_entries(survey, latest)
    questions: list[Question] = [
        q for q in latest.questions() if q.effective_publication == "public"
    ]
    allowed = _publishable_keys(latest, questionnaires)
    # Per questionnaire version: (key, kind) per column, kind None where the version's
    # answer may not be published. Built once, so the loop over the cells stays small.
    plans = {
        version: [(q.key, _kind(q) if q.key in keys else None) for q in questions]
        for version, keys in allowed.items()
    }
    unknown = [(q.key, None) for q in questions]
    withheld = 0
    keyed: list[tuple[str, str, list[Any]]] = []
    for submission in submissions:
        org = organisations.get(submission.organisation_id)
        row: list[Any] = [
            str(submission.organisation_id),
            org.source_code if org else None,
            org.name if org else None,
            org.province if org else None,
            list(org.municipalities) if org else [],
            org.size_class if org else None,
        ]
        get = submission.answers.get
        for key, kind in plans.get(submission.questionnaire_version, unknown):
            value = get(key) if kind is not None else None
            if value is None:
                pass
            elif kind == "number":
                # Validated answers are numbers; anything else never reaches a cell.
                if type(value) not in (int, float):
                    value = None
            elif kind == "text":
                if not isinstance(value, str) or not value.strip():
                    value = None
                elif must_withhold(value):
                    value = None
                    withheld += 1
            elif kind == "bool":
                if type(value) is not bool:
                    value = None
            elif kind == "list":
                if not isinstance(value, list) or not value:
                    value = None
            elif not isinstance(value, str) or not value:
                value = None
            row.append(value)
        keyed.append(((org.name if org else "").casefold(), row[0], row))
    keyed.sort(key=lambda item: (item[0], item[1]))
    return Dataset(survey, columns, [row for _, _, row in keyed], withheld)


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (see the module docstring)."""
    if cell and cell[0] in _FORMULA_START and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _float_text(value: Any) -> Any:
    if type(value) is float:
        text = repr(value)
        if "e" in text:
            # No exponent in a CSV cell: 1e-05 becomes 0.00001.
            return format(Decimal(text), "f")
    return value


def _bool_text(value: Any) -> str:
    return "true" if value else "false"


def _list_text(value: Any) -> str:
    return neutralise(LIST_SEPARATOR.join(str(v) for v in value))


def _text(value: Any) -> str:
    return neutralise(str(value))


def _csv_converters(dataset: Dataset) -> list[tuple[int, Any]]:
    """The columns whose values csv.writer cannot write as they are, with their converter.

    Integer columns need none: build_dataset lets only numbers into them, and csv.writer
    writes None as an empty cell and a number as its digits.
    """
    converters: list[tuple[int, Any]] = []
    for index, column in enumerate(dataset.columns):
        if column.type in ("decimal", "percentage", "amount"):
            converters.append((index, _float_text))
        elif column.type == "yes_no":
            converters.append((index, _bool_text))
        elif column.type in ("multiple_choice", "list"):
            converters.append((index, _list_text))
        elif column.type in ("string", "uuid", "short_text", "long_text", "single_choice", "date"):
            converters.append((index, _text))
    return converters


def render_csv(dataset: Dataset) -> bytes:
    """The dataset as CSV bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(dataset.keys)
    converters = _csv_converters(dataset)
    for row in dataset.rows:
        cells = row.copy()
        for index, convert in converters:
            value = cells[index]
            if value is not None:
                cells[index] = convert(value)
        writer.writerow(cells)
    return buffer.getvalue().encode()


def _dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _survey_json(survey: SurveyInfo) -> dict[str, Any]:
    return {
        "survey_id": str(survey.survey_id),
        "title": survey.title,
        "series_key": survey.series_key,
        "year": survey.year,
    }


def render_dictionary(dataset: Dataset, licence: Licence) -> bytes:
    """The data dictionary: what each column means, stable across the years of the series."""
    return _dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "survey": _survey_json(dataset.survey),
            "licence": licence.as_json(),
            "list_separator": LIST_SEPARATOR,
            "columns": [c.as_json() for c in dataset.columns],
        }
    )


def render_json(
    dataset: Dataset, *, version: int, published_at: datetime, licence: Licence
) -> bytes:
    """The dataset as one JSON document: metadata, then one object per organisation."""
    keys = dataset.keys
    head = _dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "survey": _survey_json(dataset.survey),
            "dataset_version": version,
            "published_at": published_at.isoformat(),
            "licence": licence.as_json(),
            "row_count": len(dataset.rows),
            "columns": keys,
        }
    )
    # Row by row: one object per organisation at a time, not all of them at once.
    rows = b",".join(_dumps(dict(zip(keys, row, strict=True))) for row in dataset.rows)
    return head[:-1] + b',"rows":[' + rows + b"]}"


def render_files(
    dataset: Dataset, *, version: int, published_at: datetime, licence: Licence
) -> DatasetFiles:
    """CSV, JSON and dictionary of one dataset version, with the content fingerprint."""
    csv_bytes = render_csv(dataset)
    dictionary = render_dictionary(dataset, licence)
    return DatasetFiles(
        csv=csv_bytes,
        json=render_json(dataset, version=version, published_at=published_at, licence=licence),
        dictionary=dictionary,
        row_count=len(dataset.rows),
        fingerprint=sha256_hex(sha256_hex(csv_bytes).encode() + dictionary),
    )
