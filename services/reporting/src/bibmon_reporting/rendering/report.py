"""The report (rapportage): one organisation's figures as an HTML page and as a PDF.

The HTML is self-contained (its own CSS, charts as inline SVG, no external assets), so
the same markup serves the web page and WeasyPrint's PDF. The PDF is tagged (PDF/UA-1)
so screen readers can follow its headings and tables.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from bibmon_reporting.rendering import formatting as fmt
from bibmon_reporting.rendering import vega
from bibmon_reporting.rendering.charts import render_section_chart_svg
from bibmon_reporting.rendering.infographic import (
    infographic_text_alternative,
    render_infographic_svg,
)
from bibmon_reporting.report_model import (
    ChoiceGroup,
    OrganisationReport,
    QuestionBenchmark,
    SectionBenchmark,
)

PDF_VARIANT = "pdf/ua-1"
_PAGE_NUMBER = {
    "nl": '"pagina " counter(page) " van " counter(pages)',
    "en": '"page " counter(page) " of " counter(pages)',
}


@dataclass(frozen=True)
class _Section:
    section: SectionBenchmark
    chart_svg: Markup | None
    chart_caption: str


@dataclass(frozen=True)
class _Option:
    value: str
    label: str
    first: bool
    count: int


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("bibmon_reporting.rendering", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _static_css() -> str:
    return (
        resources.files("bibmon_reporting.rendering")
        .joinpath("templates/report.css")
        .read_text(encoding="utf-8")
    )


def report_css(locale: str = "nl") -> str:
    """The report's stylesheet, for a web page that embeds the report as a fragment."""
    loc = fmt.check_locale(locale)
    page_rule = "@page { @bottom-right { content: " + _PAGE_NUMBER[loc] + "; } }\n"
    return _static_css() + page_rule


def render_report_html(
    report: OrganisationReport,
    locale: str = "nl",
    infographic_svg: bytes | str | None = None,
    *,
    fragment: bool = False,
) -> str:
    """The report as a standalone HTML page (or, with `fragment`, its <article> only).

    `infographic_svg` is the infographic as `render_infographic_svg` made it (pass a
    cached one to avoid rendering it twice); when None it is rendered here.
    """
    return _render_html(report, locale, infographic_svg, fragment=fragment, as_images=False)


def _render_html(
    report: OrganisationReport,
    locale: str,
    infographic_svg: bytes | str | None,
    *,
    fragment: bool,
    as_images: bool,
) -> str:
    """The page; `as_images` embeds the SVGs as images, the cheaper way for WeasyPrint."""
    loc = fmt.check_locale(locale)
    t = fmt.texts(loc)
    if infographic_svg is None:
        infographic_svg = render_infographic_svg(report, loc)
    if isinstance(infographic_svg, bytes):
        infographic_svg = infographic_svg.decode("utf-8")
    infographic = (
        _figure(infographic_svg, infographic_text_alternative(report, loc), as_images)
        if infographic_svg
        else None
    )
    sections = [_section(section, loc, as_images) for section in report.sections]
    title = t.report_title.format(survey=report.survey.title)
    context: dict[str, Any] = {
        "report": report,
        "locale": loc,
        "t": t,
        "title": title,
        "fragment": fragment,
        "css": Markup(report_css(loc)),  # noqa: S704 - our own stylesheet, no user data
        "infographic": infographic,
        "sections": sections,
        "computed_at": fmt.date_time(report.computed_at, loc),
        "size_class": fmt.size_class_name(report.organisation.size_class_label, loc),
        "summary_intro": t.summary_intro.format(
            organisation=report.organisation.name,
            counted=fmt.count(report.counted, loc),
            province=report.organisation.province,
            size_class=fmt.size_class_name(report.organisation.size_class_label, loc),
        ),
        "method": _method(report, loc),
        "count": lambda n: fmt.count(n, loc),
        "unit_label": fmt.unit_label,
        "value": lambda v, unit="": "–" if v is None else fmt.with_unit(v, unit, loc),
        "own_value": lambda v, unit="": t.no_answer if v is None else fmt.with_unit(v, unit, loc),
        "rank": lambda r: "–" if r is None else fmt.number(r, loc),
        "group_name": lambda g: fmt.group_label_of(g, loc),
        "group_label": lambda g: fmt.group_label(g.kind, g.label, loc),
        "choice_options": _choice_options_for(loc),
        "own_choice": lambda q: _own_choice(q, loc),
        "share": lambda g, value: _share(g, value, loc),
    }
    return _environment().get_template("report.html.j2").render(context)


def render_report_pdf(
    report: OrganisationReport, locale: str = "nl", infographic_svg: bytes | str | None = None
) -> bytes:
    """The report as a tagged PDF (PDF/UA-1), A4."""
    # Imported here: WeasyPrint loads Pango at import, which the API need not pay for
    # until the first PDF is asked for.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Charts as images: WeasyPrint then parses each SVG on its own instead of running the
    # page's CSS cascade over thousands of SVG elements (about half the time of a long
    # report); their alt text goes into the PDF's tags.
    html = _render_html(report, locale, infographic_svg, fragment=False, as_images=True)
    # The page is self-contained: refuse every fetch but inline data.
    fetcher = URLFetcher(allowed_protocols=("data",))
    document = HTML(string=html, base_url=None, url_fetcher=fetcher)
    out = io.BytesIO()
    document.write_pdf(out, pdf_variant=PDF_VARIANT)
    return out.getvalue()


def warm_up() -> None:
    """Load V8, the fonts and Pango once, so the first real request does not pay for them.

    For the service's startup (in a worker thread: it blocks for about a second).
    """
    from weasyprint import HTML

    vega.to_svg({"mark": "text", "encoding": {"text": {"value": "1.234,5"}}})
    HTML(string="<p lang='nl'>Bibliotheek</p>").write_pdf()


def _section(section: SectionBenchmark, locale: fmt.Locale, as_images: bool) -> _Section:
    t = fmt.texts(locale)
    svg = render_section_chart_svg(section, locale)
    has_numeric = any(q.numeric is not None for q in section.questions)
    caption = t.section_chart_caption if has_numeric else t.choice_chart_caption
    chart = None if svg is None else _figure(_chart_accessible(svg, caption), caption, as_images)
    return _Section(section=section, chart_svg=chart, chart_caption=caption)


def _chart_accessible(svg: str, caption: str) -> str:
    """The chart as one image whose name is its caption (the tables hold the figures)."""
    label = Markup.escape(caption)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _figure(svg: str, alternative: str, as_image: bool) -> Markup:
    """An SVG of our own renderers inline, or as an <img> with `alternative` as alt text."""
    if not as_image:
        # vl-convert's output with every text XML-escaped, and our own attributes.
        return Markup(svg)  # noqa: S704
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return Markup('<img src="data:image/svg+xml;base64,{}" alt="{}">').format(data, alternative)


def _method(report: OrganisationReport, locale: fmt.Locale) -> list[str]:
    t = fmt.texts(locale)
    lines = [
        t.method_counted.format(counted=fmt.count(report.counted, locale)),
        t.method_min_group.format(min=fmt.count(report.min_group_size, locale)),
        t.method_quartiles,
        t.method_rank,
    ]
    if any(q.per_inhabitant is not None for s in report.sections for q in s.questions):
        lines.append(t.method_per_inhabitant)
    lines.append(t.method_computed.format(date=fmt.date_time(report.computed_at, locale)))
    return lines


def _choice_options_for(locale: fmt.Locale) -> Any:
    def options(question: QuestionBenchmark) -> list[_Option]:
        seen: dict[str, str] = {}
        for group in question.choice or ():
            for share in group.shares:
                seen.setdefault(share.value, fmt.option_label(share.value, share.label, locale))
        for value in question.own_choice or ():
            seen.setdefault(value, value)
        return [
            _Option(value=v, label=label, first=i == 0, count=len(seen))
            for i, (v, label) in enumerate(seen.items())
        ]

    return options


def _own_choice(question: QuestionBenchmark, locale: fmt.Locale) -> str:
    t = fmt.texts(locale)
    if not question.own_choice:
        return t.no_answer
    labels = {
        share.value: fmt.option_label(share.value, share.label, locale)
        for group in question.choice or ()
        for share in group.shares
    }
    return ", ".join(labels.get(value, value) for value in question.own_choice)


def _share(group: ChoiceGroup, value: str, locale: fmt.Locale) -> str:
    for share in group.shares:
        if share.value == value:
            return fmt.percent(share.percent, locale)
    return fmt.percent(0.0, locale)
