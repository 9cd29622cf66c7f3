from pathlib import Path

import pytest

import bibmon_identity
from bibmon_identity.domain.organisations import (
    SizeClass,
    canonical_province,
    parse_organisations_csv,
    size_class,
    slug,
)

HEADER = "name,province,municipalities,inhabitants,source\n"


@pytest.mark.parametrize(
    ("inhabitants", "expected"),
    [
        (0, SizeClass.SMALL),
        (29_999, SizeClass.SMALL),
        (30_000, SizeClass.MEDIUM),
        (99_999, SizeClass.MEDIUM),
        (100_000, SizeClass.LARGE),
        (250_000, SizeClass.VERY_LARGE),
    ],
)
def test_size_class_follows_default_bounds(inhabitants, expected):
    assert size_class(inhabitants) is expected


def test_size_class_bounds_are_configurable():
    assert size_class(40_000, (50_000, 150_000, 300_000)) is SizeClass.SMALL
    assert SizeClass.VERY_LARGE.label == "zeer groot"


def test_province_spelling_is_canonical():
    assert canonical_province("friesland") == "Fryslân"
    assert canonical_province("noord-holland") == "Noord-Holland"
    assert canonical_province("Vlaanderen") is None


def test_slug_is_ascii():
    assert slug("dbieb (Bibliotheken Midden-Fryslân)") == "dbieb-bibliotheken-midden-fryslan"


def test_shipped_csv_parses_without_errors():
    path = Path(bibmon_identity.__file__).parent / "data" / "organisations-nl.csv"
    parsed = parse_organisations_csv(path.read_text(encoding="utf-8"))
    assert parsed.errors == []
    assert len(parsed.rows) >= 100


def test_csv_errors_name_the_line():
    text = HEADER + (
        "Goede Bieb,Utrecht,Utrecht;Zeist,50000,X\n"
        "Slechte Provincie,Vlaanderen,Gent,1000,X\n"
        "Geen Getal,Utrecht,Utrecht,veel,X\n"
        "Te Weinig,Utrecht\n"
        "Geen Gemeente,Utrecht,,1000,X\n"
        "Goede Bieb,Utrecht,Utrecht,1,X\n"
    )
    parsed = parse_organisations_csv(text)
    assert [row.name for row in parsed.rows] == ["Goede Bieb"]
    assert parsed.rows[0].municipalities == ["Utrecht", "Zeist"]
    assert [error["line"] for error in parsed.errors] == [3, 4, 5, 6, 7]
    assert "Vlaanderen" in parsed.errors[0]["message"]


def test_csv_with_wrong_header_is_refused():
    parsed = parse_organisations_csv("naam,provincie\nx,y\n")
    assert parsed.rows == []
    assert parsed.errors[0]["line"] == 1


def test_empty_csv_is_refused():
    assert parse_organisations_csv("").errors[0]["message"] == "The file is empty."
