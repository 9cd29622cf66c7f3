"""Organisations: provinces, the size class derived from the population served, CSV import.

Organisation data is public master data (architecture.md): nothing here is personal.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from bibmon_common.organisations import SizeClass, canonical_province

CSV_COLUMNS = ("name", "province", "municipalities", "inhabitants", "source")
MAX_IMPORT_ROWS = 5000


DEFAULT_SIZE_BOUNDS = (30_000, 100_000, 250_000)


def size_class(inhabitants: int, bounds: tuple[int, int, int] = DEFAULT_SIZE_BOUNDS) -> SizeClass:
    """Size class: below bounds[0] small, below bounds[1] medium, below bounds[2] large."""
    small, medium, large = bounds
    if inhabitants < small:
        return SizeClass.SMALL
    if inhabitants < medium:
        return SizeClass.MEDIUM
    if inhabitants < large:
        return SizeClass.LARGE
    return SizeClass.VERY_LARGE


def slug(name: str) -> str:
    """ASCII slug of a name: `Midden-Fryslân` → `midden-fryslan`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


@dataclass(frozen=True)
class OrganisationRow:
    """One valid line of an organisations CSV."""

    line: int
    name: str
    province: str
    municipalities: list[str]
    inhabitants: int
    source: str | None


@dataclass
class ParsedCsv:
    """Valid rows and per-line errors of an import."""

    rows: list[OrganisationRow] = field(default_factory=list)
    errors: list[dict[str, object]] = field(default_factory=list)


def parse_organisations_csv(text: str) -> ParsedCsv:
    """Parse `name,province,municipalities(;-separated),inhabitants,source` with a header."""
    result = ParsedCsv()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        result.errors.append({"line": 1, "message": "The file is empty."})
        return result
    except csv.Error as exc:
        result.errors.append({"line": 1, "message": f"Unreadable CSV: {exc}."})
        return result
    if [h.strip().lower() for h in header] != list(CSV_COLUMNS):
        result.errors.append(
            {"line": 1, "message": "The header must be: " + ",".join(CSV_COLUMNS) + "."}
        )
        return result
    seen: set[str] = set()
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(result.rows) + len(result.errors) >= MAX_IMPORT_ROWS:
                result.errors.append({"line": line, "message": "Too many lines."})
                break
            problem, row = _parse_record(line, record)
            if row is not None and row.name.casefold() in seen:
                problem, row = "The name appears twice in this file.", None
            if row is None:
                result.errors.append({"line": line, "message": problem})
            else:
                seen.add(row.name.casefold())
                result.rows.append(row)
    except csv.Error as exc:
        result.errors.append({"line": reader.line_num, "message": f"Unreadable CSV: {exc}."})
    return result


def _parse_record(line: int, record: list[str]) -> tuple[str, OrganisationRow | None]:
    if len(record) != len(CSV_COLUMNS):
        return f"Expected {len(CSV_COLUMNS)} columns, found {len(record)}.", None
    name, province_text, municipalities_text, inhabitants_text, source = (
        cell.strip() for cell in record
    )
    if not name or len(name) > 200:
        return "The name is missing or longer than 200 characters.", None
    province = canonical_province(province_text)
    if province is None:
        return f"Unknown province {province_text!r}.", None
    municipalities = [m.strip() for m in municipalities_text.split(";") if m.strip()]
    if not municipalities:
        return "At least one municipality is needed.", None
    try:
        inhabitants = int(inhabitants_text.replace("_", "").replace(".", ""))
    except ValueError:
        return f"Inhabitants must be a whole number, not {inhabitants_text!r}.", None
    if not 0 <= inhabitants <= 20_000_000:
        return "Inhabitants must be between 0 and 20,000,000.", None
    return "", OrganisationRow(line, name, province, municipalities, inhabitants, source or None)
