"""The infographic: up to six key figures of one organisation against three groups.

Each key figure is a small bar chart with four rows: the organisation's own value and the
median of the nation, its province and its size class (medians, not means: one large city
library would pull a mean far from a typical library; see ADR 0013). Where the
questionnaire asks for figures per 1,000 inhabitants the infographic shows those, since
only they compare libraries of different sizes fairly. A group below the minimum size
shows "te weinig deelnemers" and no bar. Every number is formatted by babel in Python and
drawn as text, so Vega never formats a figure itself.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import altair as alt

from bibmon_reporting.rendering import formatting as fmt
from bibmon_reporting.rendering import vega
from bibmon_reporting.report_model import (
    ChoiceGroup,
    NumericFigures,
    OrganisationReport,
    QuestionBenchmark,
)

MAX_KEY_FIGURES = 6
PANEL_WIDTH = 250
ROW_HEIGHT = 28
AXIS_WIDTH = 190


@dataclass(frozen=True)
class Row:
    """One bar of a key figure: the own value or one group's median."""

    label: str
    value: float | None
    value_text: str
    own: bool
    n_text: str = ""
    too_few: bool = False
    # The group's name inside a sentence ("middelgrote bibliotheken").
    in_sentence: str = ""

    @property
    def text(self) -> str:
        """The bar's label: the formatted value, with n for a group."""
        if self.own or self.too_few or not self.n_text:
            return self.value_text
        return f"{self.value_text}  (n = {self.n_text})"


@dataclass(frozen=True)
class KeyFigure:
    """What the infographic and its text alternative say about one question."""

    title: str
    subtitle: str
    rows: tuple[Row, ...]
    measure: str = ""
    # What the text alternative adds after the title: a unit word or "per 1.000 inwoners".
    detail: str = ""


def key_figures(report: OrganisationReport, locale: fmt.Locale) -> tuple[KeyFigure, ...]:
    """The infographic's key figures, at most six, in questionnaire order."""
    chosen = report.key_figures()
    if not chosen:
        # No question marked: the questionnaire's default is its first numeric questions.
        chosen = tuple(q for s in report.sections for q in s.questions if q.numeric is not None)
    figures = (_key_figure(q, locale) for q in chosen)
    return tuple(f for f in figures if f is not None)[:MAX_KEY_FIGURES]


def _key_figure(question: QuestionBenchmark, locale: fmt.Locale) -> KeyFigure | None:
    t = fmt.texts(locale)
    if question.per_inhabitant is not None:
        subtitle = t.per_inhabitant
        if question.numeric is not None and question.numeric.own is not None:
            total = fmt.with_unit(question.numeric.own, question.unit, locale)
            subtitle = t.per_inhabitant_total.format(total=total)
        unit = fmt.inline_unit(question.unit)
        figures = question.per_inhabitant
        return _numeric(question.label, subtitle, t.per_inhabitant, unit, figures, locale)
    if question.numeric is not None:
        # A short unit (€, %) goes with every figure; a word ("uur") once, as subtitle.
        unit = fmt.inline_unit(question.unit)
        subtitle = "" if unit else question.unit
        return _numeric(question.label, subtitle, subtitle, unit, question.numeric, locale)
    if question.choice is not None and question.own_choice:
        return _choice(question, question.choice, question.own_choice, locale)
    return None


def _numeric(
    label: str,
    subtitle: str,
    detail: str,
    unit: str,
    figures: NumericFigures,
    locale: fmt.Locale,
) -> KeyFigure:
    t = fmt.texts(locale)
    own_text = t.no_answer if figures.own is None else fmt.with_unit(figures.own, unit, locale)
    rows = [Row(t.own, figures.own, own_text, own=True)]
    for group in figures.groups:
        name = fmt.group_label_of(group, locale)
        inline = fmt.group_label_in_sentence(group.kind, group.label, locale)
        if group.too_few or group.median is None:
            rows.append(
                Row(
                    name,
                    None,
                    t.too_few,
                    own=False,
                    n_text=fmt.count(group.n, locale),
                    too_few=True,
                    in_sentence=inline,
                )
            )
            continue
        text = fmt.with_unit(group.median, unit, locale)
        rows.append(
            Row(
                name,
                group.median,
                text,
                own=False,
                n_text=fmt.count(group.n, locale),
                in_sentence=inline,
            )
        )
    return KeyFigure(label, subtitle, tuple(rows), measure=t.median, detail=detail)


def _choice(
    question: QuestionBenchmark,
    groups: tuple[ChoiceGroup, ...],
    own: tuple[str, ...],
    locale: fmt.Locale,
) -> KeyFigure:
    """A choice as key figure: which share of each group gave the organisation's answer."""
    t = fmt.texts(locale)
    answer = own[0]
    answer_label = answer
    for group in groups:
        for share in group.shares:
            if share.value == answer:
                answer_label = fmt.option_label(share.value, share.label, locale)
    subtitle = t.choice_share_subtitle.format(answer=answer_label)
    rows = [Row(t.own, None, answer_label, own=True)]
    for group in groups:
        name = fmt.group_label(group.kind, group.label, locale)
        inline = fmt.group_label_in_sentence(group.kind, group.label, locale)
        if group.too_few:
            rows.append(
                Row(
                    name,
                    None,
                    t.too_few,
                    own=False,
                    n_text=fmt.count(group.n, locale),
                    too_few=True,
                    in_sentence=inline,
                )
            )
            continue
        pct = next((s.percent for s in group.shares if s.value == answer), 0.0)
        rows.append(
            Row(
                name,
                pct,
                fmt.percent(pct, locale),
                own=False,
                n_text=fmt.count(group.n, locale),
                in_sentence=inline,
            )
        )
    return KeyFigure(question.label, subtitle, tuple(rows), measure=t.share, detail=subtitle)


def infographic_text_alternative(report: OrganisationReport, locale: str = "nl") -> str:
    """The infographic in words: one sentence per key figure, for screen readers."""
    loc = fmt.check_locale(locale)
    t = fmt.texts(loc)
    sentences = [
        t.text_alt_intro.format(organisation=report.organisation.name, survey=report.survey.title)
    ]
    for figure in key_figures(report, loc):
        label = f"{figure.title} ({figure.detail})" if figure.detail else figure.title
        own = figure.rows[0]
        parts = [t.text_alt_own.format(label=label, value=own.text)]
        for row in figure.rows[1:]:
            if row.too_few:
                parts.append(f"{figure.measure} {row.in_sentence}: {t.too_few}")
            else:
                parts.append(
                    t.text_alt_group.format(
                        measure=figure.measure,
                        group=row.in_sentence,
                        value=row.value_text,
                        n=row.n_text,
                    )
                )
        sentences.append("; ".join(parts) + ".")
    sentences.append(t.infographic_source.format(date=fmt.long_date(report.computed_at, loc)) + ".")
    return " ".join(sentences)


def infographic_spec(report: OrganisationReport, locale: str = "nl") -> dict[str, Any]:
    """The Vega-Lite spec of the infographic, data inline."""
    loc = fmt.check_locale(locale)
    t = fmt.texts(loc)
    figures = key_figures(report, loc)
    panels = [_panel(figure) for figure in figures]
    if not panels:
        panels = [vega.unit(_message_panel(t.key_figures_none))]
    footer = _message_panel(
        t.infographic_source.format(date=fmt.long_date(report.computed_at, loc)),
        width=2 * PANEL_WIDTH + 200,
        colour=vega.MUTED,
        size=11,
    )
    subtitle = [report.survey.title, *textwrap.wrap(t.infographic_legend, 95)]
    title = alt.TitleParams(
        text=_wrap(report.organisation.name, 60),
        subtitle=subtitle,
        fontSize=22,
        subtitleFontSize=13,
        subtitlePadding=8,
        offset=22,
        anchor="start",
        color=vega.ACCENT,
    )
    # Composed as plain dicts: altair's concat and layer deep-copy every subchart, which
    # cost more than drawing the chart. The tests validate the result against the schema.
    return {
        "$schema": vega.SCHEMA,
        "vconcat": [
            {"concat": panels, "columns": 2, "spacing": 36},
            vega.unit(footer),
        ],
        "spacing": 18,
        "title": title.to_dict(validate=False),
        "padding": {"left": 24, "right": 24, "top": 24, "bottom": 16},
        "config": dict(vega.BASE_CONFIG),
    }


def _panel(figure: KeyFigure) -> dict[str, Any]:
    rows = [
        {
            "order": i,
            "row": row.label,
            "value": row.value,
            "bar": 0.0 if row.value is None else row.value,
            "text": row.text,
            "colour": vega.ACCENT if row.own else vega.GROUP_COLOUR,
            "textColour": vega.ACCENT if row.own else (vega.MUTED if row.too_few else vega.INK),
        }
        for i, row in enumerate(figure.rows)
    ]
    largest = max((0.0 if r.value is None else r.value for r in figure.rows), default=0.0) or 1.0
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y(
            "row:N",
            sort=[row.label for row in figure.rows],
            axis=alt.Axis(
                title=None,
                domain=False,
                ticks=False,
                # A fixed axis width lines the panels and the footer up on the left.
                minExtent=AXIS_WIDTH,
                maxExtent=AXIS_WIDTH,
                labelLimit=AXIS_WIDTH - 10,
                labelPadding=8,
                labelFontSize=13,
            ),
        )
    )
    # Room to the right of the longest bar for its label.
    x_scale = alt.Scale(domain=[0, largest * 1.9], nice=False, zero=True)
    bars = base.mark_bar(height=ROW_HEIGHT * 0.62).encode(
        x=alt.X("bar:Q", scale=x_scale, axis=None),
        color=alt.Color("colour:N", scale=None),
    )
    text_encoding = {
        "x": alt.X("bar:Q", scale=x_scale, axis=None),
        "text": "text:N",
        "color": alt.Color("textColour:N", scale=None),
    }
    own_label = (
        base.transform_filter("datum.order == 0")
        .mark_text(align="left", baseline="middle", dx=5, fontSize=14, fontWeight="bold")
        .encode(**text_encoding)
    )
    group_labels = (
        base.transform_filter("datum.order > 0")
        .mark_text(align="left", baseline="middle", dx=5, fontSize=13)
        .encode(**text_encoding)
    )
    title = alt.TitleParams(
        text=_wrap(figure.title, 46),
        subtitle=figure.subtitle or " ",
        fontSize=15,
        fontWeight="bold",
        subtitleFontSize=13,
        anchor="start",
        color=vega.INK,
        subtitleColor=vega.MUTED,
        offset=8,
    )
    return {
        "layer": [vega.unit(bars), vega.unit(own_label), vega.unit(group_labels)],
        "width": PANEL_WIDTH,
        "height": ROW_HEIGHT * len(rows),
        "title": title.to_dict(validate=False),
    }


def _message_panel(
    message: str, width: int = PANEL_WIDTH, colour: str = vega.INK, size: int = 12
) -> alt.Chart:
    # Starts where the panels' row labels start, left of the plot origin.
    return (
        alt.Chart(alt.Data(values=[{"text": message}]))
        .mark_text(align="left", baseline="top", fontSize=size, color=colour, x=-AXIS_WIDTH, y=0)
        .encode(text="text:N")
        .properties(width=width, height=size + 4)
    )


def _wrap(text: str, width: int) -> list[str] | str:
    lines = textwrap.wrap(text, width) or [text]
    return lines if len(lines) > 1 else lines[0]


def render_infographic_svg(report: OrganisationReport, locale: str = "nl") -> bytes:
    """The infographic as an accessible SVG document (UTF-8)."""
    loc = fmt.check_locale(locale)
    svg = vega.to_svg(infographic_spec(report, loc), loc)
    return _accessible(svg, report, infographic_text_alternative(report, loc), loc)


def render_infographic_png(
    report: OrganisationReport, locale: str = "nl", scale: float = 2.0
) -> bytes:
    """The infographic as PNG, `scale` pixels per CSS pixel (2 suits high-density screens)."""
    loc = fmt.check_locale(locale)
    return vega.to_png(infographic_spec(report, loc), scale, loc)


def _accessible(svg: str, report: OrganisationReport, alternative: str, locale: str) -> bytes:
    """The SVG as one image with a title and the text alternative as its description."""
    # Edited as text: re-serialising with ElementTree would need a process-wide namespace
    # registration, which changes how other libraries (WeasyPrint) serialise their trees.
    match = _ROOT_TAG.search(svg)
    if match is None:
        raise ValueError("vl-convert returned no <svg> element")
    base = f"bm-infographic-{report.survey.id.hex[:8]}-{report.organisation.id.hex[:8]}"
    title_id, desc_id = f"{base}-title", f"{base}-desc"
    attributes = _VEGA_ROOT_ARIA.sub("", match.group(1))
    name = f"{report.organisation.name} – {report.survey.title}"
    opening = (
        f'<svg{attributes} role="img" aria-labelledby="{title_id} {desc_id}" '
        f'lang="{locale}"><title id="{title_id}">{escape(name)}</title>'
        f'<desc id="{desc_id}">{escape(alternative)}</desc>'
    )
    return (svg[: match.start()] + opening + svg[match.end() :]).encode("utf-8")


_ROOT_TAG = re.compile(r"<svg(\s[^>]*)?>")
_VEGA_ROOT_ARIA = re.compile(r'\s(?:role|aria-[a-z]+)="[^"]*"')
_VOLATILE_ID = re.compile(r"\b(clip|gradient|pattern)(\d+)\b")


def normalise_svg_ids(svg: str) -> str:
    """The SVG with Vega's per-process counters (clip paths, gradients) renumbered from 1."""
    seen: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        key = match.group(0)
        if key not in seen:
            seen[key] = f"{match.group(1)}{len(seen) + 1}"
        return seen[key]

    return _VOLATILE_ID.sub(renumber, svg)
