"""The report: a self-contained Dutch HTML page and a tagged PDF that opens."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from bibmon_reporting.rendering import render_infographic_svg, render_report_html, render_report_pdf
from bibmon_reporting.rendering.report import report_css
from bibmon_reporting.rendering.sample import sample_report
from bibmon_reporting.report_model import OrganisationReport


@pytest.fixture(scope="module")
def report() -> OrganisationReport:
    return sample_report()


@pytest.fixture(scope="module")
def html(report: OrganisationReport) -> str:
    return render_report_html(report)


@pytest.fixture(scope="module")
def pdf(report: OrganisationReport) -> bytes:
    return render_report_pdf(report)


class _Page(HTMLParser):
    """What a reader sees: the text (no CSS, no SVG), its table rows, and every reference."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.references: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href", "xlink:href"} and value:
                self.references.append(value)
        if tag in {"svg", "style", "title"}:
            self._hidden += 1
        if tag == "tr":
            self.rows.append([])
        if tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"svg", "style", "title"}:
            self._hidden -= 1
        if tag in {"td", "th"} and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if not self._hidden:
            self.text.append(data)


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _visible_text(html: str) -> str:
    return " ".join("".join(_page(html).text).split())


def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_html_is_a_standalone_dutch_page_without_external_assets(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="nl">' in html
    assert "<title>Rapportage Bibliotheekmonitor 2026 – Bibliotheek Rivierenland</title>" in html
    page = _page(html)
    assert page.references == []
    assert "@import" not in html
    assert not re.search(r"url\((?!#)", html)


def test_html_shows_summary_sections_tables_with_n_and_the_method(html: str) -> None:
    text = _visible_text(html)
    for heading in ("Samenvatting", "Leden en gebruik", "Organisatie en financiën"):
        assert heading in text
    assert "Activiteiten en samenwerking" in text
    assert html.count('class="bm-infographic"') == 1
    # One chart per section.
    assert html.count('<figure role="group"') == 3
    rows = _page(html).rows
    # Members, national group: n, median, mean, Q1 – Q3, min – max, percentile rank.
    national = next(r for r in rows if r[0] == "Nederland" and len(r) == 7)
    assert national[1] == "123"
    assert re.fullmatch(r"\d{1,3}(\.\d{3})* – \d{1,3}(\.\d{3})*", national[4])
    assert "Uw waarde: 21.480; per 1.000 inwoners: 205,8" in text
    assert "minder dan 3 bibliotheken" in text
    assert "lineaire interpolatie" in text
    assert "ingediende antwoorden die niet zijn teruggezet" in text
    assert "per 1.000 inwoners van het werkgebied" in text
    assert "berekend op 1 april 2026, 12:05" in text  # 10:05 UTC is 12:05 in Amsterdam


def test_choice_questions_get_a_distribution_table(html: str) -> None:
    rows = _page(html).rows
    header = next(r for r in rows if r and r[0] == "Antwoord")
    assert header[1:] == [
        "Nederland (n = 123)",
        "Gelderland (n = 14)",
        "Middelgrote bibliotheken (n = 31)",
    ]
    assert ["Ja", "87,8%", "92,9%", "90,3%"] in rows
    assert "Uw antwoord: Ja" in _visible_text(html)


def test_too_few_group_shows_te_weinig_deelnemers_and_no_figure() -> None:
    report = sample_report()
    html = render_report_html(report, infographic_svg="")
    rows = _page(html).rows
    # Total costs: the size class has 2 organisations, below the minimum of 3.
    too_few = [r for r in rows if r[0] == "Middelgrote bibliotheken" and len(r) == 2]
    assert too_few == [["Middelgrote bibliotheken", "te weinig deelnemers"]] * 2
    # The choice table for education: the size-class column is too small as well.
    header = next(r for r in rows if r and r[0] == "Antwoord" and "Middelgrote bibliotheken" in r)
    assert header[-1] == "Middelgrote bibliotheken"
    assert ["Primair onderwijs", "71,5%", "64,3%", "te weinig deelnemers"] in rows


def test_markup_in_names_is_escaped() -> None:
    report = sample_report(organisation_name="Bibliotheek <script>alert(1)</script> & Co")
    html = render_report_html(report)
    assert "<script>" not in html
    assert "Bibliotheek &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


def test_fragment_is_the_article_only_and_css_is_available_for_the_web_page(
    report: OrganisationReport,
) -> None:
    fragment = render_report_html(report, fragment=True, infographic_svg="")
    assert fragment.lstrip().startswith('<article class="bm-report" lang="nl">')
    assert "<html" not in fragment
    assert "<style" not in fragment
    assert ".bm-report" in report_css()
    assert '"pagina " counter(page)' in report_css("nl")


def test_english_report_is_english(report: OrganisationReport) -> None:
    html = render_report_html(report, locale="en", infographic_svg="")
    text = _visible_text(html)
    assert '<html lang="en">' in html
    assert "Summary" in text
    assert "Method" in text
    assert "too few participants" in text
    assert "Your value: 21,480; per 1,000 inhabitants: 205.8" in text
    assert "computed on 1 April 2026, 12:05" in text


def test_pdf_opens_with_pages_the_organisation_and_a_key_figure_in_its_text(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert 3 <= len(reader.pages) <= 12
    text = _pdf_text(pdf)
    assert "Bibliotheek Rivierenland" in text
    assert "3.957" in text  # loans per 1,000 inhabitants
    assert "te weinig deelnemers" in text
    assert reader.metadata is not None
    assert reader.metadata.title == "Rapportage Bibliotheekmonitor 2026 – Bibliotheek Rivierenland"


def test_pdf_is_tagged_for_screen_readers(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "nl"


def test_report_without_sections_still_renders_with_a_clear_message() -> None:
    empty = sample_report().model_copy(update={"sections": ()})
    svg = render_infographic_svg(empty)
    assert b"Voor deze vragenlijst zijn geen kerncijfers aangewezen." in svg
    pdf = render_report_pdf(empty, infographic_svg=svg)
    text = _pdf_text(pdf)
    assert "Bibliotheek Rivierenland" in text
    assert "Verantwoording" in text


def test_unanswered_question_reads_niet_ingevuld(html: str) -> None:
    # Volunteers: the sample organisation left it empty; the groups still show figures.
    text = _visible_text(html)
    assert "Aantal vrijwilligers Uw waarde: niet ingevuld" in text
