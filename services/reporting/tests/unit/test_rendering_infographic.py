"""The infographic: SVG that parses and speaks Dutch, PNG that opens, a text alternative.

Golden file: `services/reporting/tests/golden/infographic_nl.svg`. After an intended
change to the infographic, regenerate it with
`BIBMON_UPDATE_GOLDEN=1 uv run pytest services/reporting/tests/unit/test_rendering_infographic.py`
and review the diff (and a PNG of it) before committing.
"""

from __future__ import annotations

import io
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import pytest
from altair.vegalite.v6.schema import core
from defusedxml import ElementTree
from PIL import Image

from bibmon_reporting.rendering import (
    infographic_text_alternative,
    render_infographic_png,
    render_infographic_svg,
)
from bibmon_reporting.rendering.charts import section_chart_spec
from bibmon_reporting.rendering.infographic import infographic_spec, normalise_svg_ids
from bibmon_reporting.rendering.sample import sample_report
from bibmon_reporting.report_model import NumericGroup, OrganisationReport

SVG = "{http://www.w3.org/2000/svg}"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "infographic_nl.svg"


@pytest.fixture(scope="module")
def report() -> OrganisationReport:
    return sample_report()


@pytest.fixture(scope="module")
def svg(report: OrganisationReport) -> bytes:
    return render_infographic_svg(report)


def _texts(svg: bytes) -> list[str]:
    """Every line of text drawn: single-line <text> and each <tspan> of a multi-line one."""
    root = ElementTree.fromstring(svg)
    lines = [el.text for el in root.iter(f"{SVG}text") if el.text]
    return lines + [el.text for el in root.iter(f"{SVG}tspan") if el.text]


def _with_figures_in_too_few_group(report: OrganisationReport) -> OrganisationReport:
    """The sample, but every too_few group carries (wrongly) a figure of 999.999."""

    def leak(group: NumericGroup) -> NumericGroup:
        if not group.too_few:
            return group
        return group.model_copy(update={"median": 999_999.0, "mean": 999_999.0})

    sections = []
    for section in report.sections:
        questions = []
        for q in section.questions:
            update = {}
            for name in ("numeric", "per_inhabitant"):
                figures = getattr(q, name)
                if figures is not None:
                    groups = tuple(leak(g) for g in figures.groups)
                    update[name] = figures.model_copy(update={"groups": groups})
            questions.append(q.model_copy(update=update))
        sections.append(section.model_copy(update={"questions": tuple(questions)}))
    return report.model_copy(update={"sections": tuple(sections)})


def test_svg_parses_and_shows_the_organisation_and_dutch_figures(svg: bytes) -> None:
    texts = _texts(svg)
    assert "Bibliotheek Rivierenland" in texts
    assert "Bibliotheekmonitor 2026" in texts
    # Loans per 1,000 inhabitants: 412,937 / 104,350 × 1,000 = 3,957.2 → "3.957".
    assert "3.957" in texts
    # Members per 1,000 inhabitants: 21,480 / 104,350 × 1,000 = 205.84 → "205,8".
    assert "205,8" in texts
    assert any("€ 6.215.000" in t for t in texts)
    assert not any("3,957" in t or "205.8" in t for t in texts)


def test_svg_is_one_image_named_by_its_title_and_described_by_the_text_alternative(
    report: OrganisationReport, svg: bytes
) -> None:
    root = ElementTree.fromstring(svg)
    assert root.get("role") == "img"
    ids = root.get("aria-labelledby", "").split()
    assert len(ids) == 2
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert [title.get("id"), desc.get("id")] == ids
    assert title.text == "Bibliotheek Rivierenland – Bibliotheekmonitor 2026"
    assert desc.text == infographic_text_alternative(report)


def test_text_alternative_has_one_dutch_sentence_per_key_figure(
    report: OrganisationReport,
) -> None:
    text = infographic_text_alternative(report)
    assert text.startswith("Infographic van Bibliotheek Rivierenland voor Bibliotheekmonitor")
    assert text.count(": uw bibliotheek ") == len(report.key_figures()) == 6
    assert (
        "Aantal uitleningen (fysiek en digitaal) (per 1.000 inwoners): uw bibliotheek 3.957;"
        in text
    )
    assert "mediaan Nederland" in text
    assert "(n = 123)" in text
    assert "berekend op 1 april 2026" in text


def test_at_most_six_key_figures_are_shown() -> None:
    report = sample_report()
    # Mark every numeric question a key figure: eight of them.
    sections = tuple(
        s.model_copy(
            update={
                "questions": tuple(
                    q.model_copy(update={"key_figure": q.numeric is not None}) for q in s.questions
                )
            }
        )
        for s in report.sections
    )
    many = report.model_copy(update={"sections": sections})
    assert len(many.key_figures()) == 8
    assert infographic_text_alternative(many).count(": uw bibliotheek ") == 6


def test_too_few_group_shows_te_weinig_deelnemers_and_never_a_figure(
    report: OrganisationReport,
) -> None:
    leaky = _with_figures_in_too_few_group(report)
    svg = render_infographic_svg(leaky)
    texts = _texts(svg)
    assert "te weinig deelnemers" in texts
    assert not any("999" in t for t in texts)
    alternative = infographic_text_alternative(leaky)
    assert "mediaan middelgrote bibliotheken: te weinig deelnemers" in alternative
    assert "999" not in alternative


def test_png_opens_with_the_svg_size_times_the_scale(
    svg: bytes, report: OrganisationReport
) -> None:
    png = render_infographic_png(report, scale=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # IHDR
    root = ElementTree.fromstring(svg)
    assert (width, height) == (int(root.get("width")) * 2, int(root.get("height")) * 2)
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.size == (width, height)


def test_english_locale_speaks_english_with_english_numbers(report: OrganisationReport) -> None:
    texts = _texts(render_infographic_svg(report, locale="en"))
    assert "Your library" in texts
    assert "too few participants" in texts
    assert "3,957" in texts
    assert "Uw bibliotheek" not in texts
    assert infographic_text_alternative(report, "en").startswith("Infographic of ")


def test_unknown_locale_is_refused(report: OrganisationReport) -> None:
    with pytest.raises(ValueError, match="locale"):
        render_infographic_svg(report, locale="de")


def test_names_with_markup_are_escaped_and_the_svg_still_parses() -> None:
    report = sample_report(organisation_name="Bibliotheek <Aa> & Hunze")
    svg = render_infographic_svg(report)
    root = ElementTree.fromstring(svg)
    assert root.find(f"{SVG}title").text.startswith("Bibliotheek <Aa> & Hunze")
    assert b"<Aa>" not in svg


def test_specs_are_valid_vega_lite(report: OrganisationReport) -> None:
    # Rendering composes plain dicts without altair's validation, for speed; this keeps
    # the infographic's and the report charts' specs honest against the schema.
    core.TopLevelSpec.validate(infographic_spec(report))
    for section in report.sections:
        spec = section_chart_spec(section, "nl")
        assert spec is not None
        core.TopLevelSpec.validate(spec)
    with pytest.raises(jsonschema.ValidationError):
        core.TopLevelSpec.validate({**infographic_spec(report), "vconcat": [{"mark": "nope"}]})


def test_infographic_matches_the_golden_rendering(svg: bytes) -> None:
    # One element per line, so a change reads as a small diff.
    rendered = normalise_svg_ids(svg.decode("utf-8")).replace("><", ">\n<") + "\n"
    if os.environ.get("BIBMON_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(rendered, encoding="utf-8")
    assert GOLDEN.exists(), "no golden file: run with BIBMON_UPDATE_GOLDEN=1 once"
    assert rendered == GOLDEN.read_text(encoding="utf-8"), (
        "the infographic changed; if intended, regenerate with BIBMON_UPDATE_GOLDEN=1"
    )


def test_key_figure_without_own_answer_reads_niet_ingevuld(report: OrganisationReport) -> None:
    first = report.key_figures()[0]
    assert first.per_inhabitant is not None
    blank = first.model_copy(
        update={"per_inhabitant": first.per_inhabitant.model_copy(update={"own": None})}
    )
    section = report.sections[0]
    questions = (blank, *section.questions[1:])
    changed = report.model_copy(
        update={
            "sections": (
                section.model_copy(update={"questions": questions}),
                *report.sections[1:],
            )
        }
    )
    assert "Niet ingevuld" not in infographic_text_alternative(changed)
    assert "Aantal leden (per 1.000 inwoners): uw bibliotheek niet ingevuld;" in (
        infographic_text_alternative(changed)
    )
    assert "niet ingevuld" in _texts(render_infographic_svg(changed))


def test_renders_in_parallel_threads_give_the_same_svg(
    report: OrganisationReport, svg: bytes
) -> None:
    # The API renders in a thread pool; vl-convert and the font registration are shared.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: render_infographic_svg(report), range(4)))
    assert results == [svg] * 4
