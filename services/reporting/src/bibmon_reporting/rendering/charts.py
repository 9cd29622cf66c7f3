"""The report's chart per section: where the organisation stands in each group.

Numeric questions share one scale, the percentile rank (0-100), so a section with
figures of very different sizes (members, euros, hours) fits in one chart; the tables
beside it give the figures themselves. A section with only choice questions gets the
distribution of the answers per group instead.
"""

from __future__ import annotations

import textwrap
from typing import Any

import altair as alt

from bibmon_reporting.rendering import formatting as fmt
from bibmon_reporting.rendering import vega
from bibmon_reporting.report_model import NumericFigures, SectionBenchmark

CHART_WIDTH = 400
LABEL_WIDTH = 230
# Colour and shape both tell the groups apart, so the chart reads without colour vision.
_GROUP_COLOURS = ("#00587a", "#b35900", "#5b3f8c")  # all >= 4.5:1 on white
_GROUP_SHAPES = ("circle", "square", "triangle-up")
_OPTION_COLOURS = ("#00587a", "#6f9fb3", "#b35900", "#e0b080", "#5b3f8c", "#a895c7", "#6f7b84")


def section_chart_spec(section: SectionBenchmark, locale: fmt.Locale) -> dict[str, Any] | None:
    """The section's chart as a Vega-Lite spec, or None when it has nothing to plot."""
    ranks = _rank_rows(section, locale)
    spec = _rank_chart(ranks, locale) if ranks else _choice_charts(section, locale)
    if spec is None:
        return None
    return {"$schema": vega.SCHEMA, **spec, "config": dict(vega.BASE_CONFIG)}


def render_section_chart_svg(section: SectionBenchmark, locale: fmt.Locale) -> str | None:
    """The section's chart as SVG markup, or None."""
    spec = section_chart_spec(section, locale)
    return None if spec is None else vega.to_svg(spec, locale)


def _rank_rows(section: SectionBenchmark, locale: fmt.Locale) -> list[dict[str, Any]]:
    t = fmt.texts(locale)
    rows: list[dict[str, Any]] = []
    for question in section.questions:
        figures: NumericFigures | None = question.per_inhabitant or question.numeric
        if figures is None or figures.own is None:
            continue
        label = question.label
        if question.per_inhabitant is not None:
            label = f"{label} ({t.per_inhabitant})"
        for index, group in enumerate(figures.groups):
            if group.too_few or group.percentile_rank is None:
                continue
            rows.append(
                {
                    "question": "\n".join(textwrap.wrap(label, 34)),
                    "order": len(rows),
                    "group": fmt.group_label_of(group, locale),
                    "groupIndex": index,
                    "rank": round(group.percentile_rank, 1),
                    "rankText": fmt.number(group.percentile_rank, locale),
                }
            )
    return rows


def _rank_chart(rows: list[dict[str, Any]], locale: fmt.Locale) -> dict[str, Any]:
    t = fmt.texts(locale)
    questions = list(dict.fromkeys(r["question"] for r in rows))
    groups = list(dict.fromkeys(r["group"] for r in sorted(rows, key=lambda r: r["groupIndex"])))
    y = alt.Y(
        "question:N",
        sort=questions,
        axis=alt.Axis(
            title=None,
            labelExpr="split(datum.label, '\\n')",
            labelLimit=LABEL_WIDTH,
            minExtent=LABEL_WIDTH,
            labelFontSize=11,
            labelPadding=8,
            domain=False,
            ticks=False,
        ),
    )
    x = alt.X(
        "rank:Q",
        scale=alt.Scale(domain=[0, 100]),
        axis=alt.Axis(title=t.rank_axis, values=[0, 25, 50, 75, 100], grid=True),
    )
    points = (
        alt.Chart(alt.Data(values=rows))
        .mark_point(filled=True, size=90, opacity=0.95)
        .encode(
            x=x,
            y=y,
            yOffset=alt.YOffset("group:N", sort=groups, scale=alt.Scale(paddingOuter=0.5)),
            color=alt.Color(
                "group:N",
                sort=groups,
                scale=alt.Scale(domain=groups, range=list(_GROUP_COLOURS[: len(groups)])),
                legend=alt.Legend(title=None, orient="bottom", direction="horizontal"),
            ),
            shape=alt.Shape(
                "group:N",
                sort=groups,
                scale=alt.Scale(domain=groups, range=list(_GROUP_SHAPES[: len(groups)])),
                legend=alt.Legend(title=None, orient="bottom", direction="horizontal"),
            ),
        )
    )
    middle = (
        alt.Chart(alt.Data(values=[{"rank": 50}]))
        .mark_rule(color=vega.MUTED, strokeDash=[4, 3])
        .encode(x=alt.X("rank:Q", scale=alt.Scale(domain=[0, 100])))
    )
    # Composed as a dict: altair's layer deep-copies its subcharts, which is slow.
    # A fixed height per question: a step would apply to the groups' offsets too.
    return {
        "layer": [vega.unit(middle), vega.unit(points)],
        "width": CHART_WIDTH,
        "height": len(questions) * (12 * max(1, len(groups)) + 14),
    }


def _choice_charts(section: SectionBenchmark, locale: fmt.Locale) -> dict[str, Any] | None:
    t = fmt.texts(locale)
    charts: list[dict[str, Any]] = []
    for question in section.questions:
        if not question.choice:
            continue
        rows: list[dict[str, Any]] = []
        options: list[str] = []
        for group in question.choice:
            if group.too_few:
                continue
            label = fmt.group_label(group.kind, group.label, locale)
            name = f"{label} (n = {fmt.count(group.n, locale)})"
            for share in group.shares:
                option = fmt.option_label(share.value, share.label, locale)
                if option not in options:
                    options.append(option)
                rows.append(
                    {
                        "group": name,
                        "option": option,
                        "optionIndex": options.index(option),
                        "percent": share.percent,
                    }
                )
        if not rows:
            continue
        colours = [_OPTION_COLOURS[i % len(_OPTION_COLOURS)] for i in range(len(options))]
        chart = (
            alt.Chart(alt.Data(values=rows))
            .mark_bar(height=16)
            .encode(
                x=alt.X(
                    "percent:Q",
                    stack="zero",
                    scale=alt.Scale(domain=[0, 100]),
                    axis=alt.Axis(title=t.share_axis + " (%)", values=[0, 25, 50, 75, 100]),
                ),
                y=alt.Y(
                    "group:N",
                    sort=None,
                    axis=alt.Axis(
                        title=None, labelLimit=LABEL_WIDTH, minExtent=LABEL_WIDTH, ticks=False
                    ),
                ),
                color=alt.Color(
                    "option:N",
                    sort=options,
                    scale=alt.Scale(domain=options, range=colours),
                    legend=alt.Legend(
                        title=None,
                        orient="bottom",
                        direction="horizontal",
                        columns=2,
                        labelLimit=CHART_WIDTH // 2,
                    ),
                ),
                order=alt.Order("optionIndex:Q"),
            )
            .properties(
                width=CHART_WIDTH,
                height=alt.Step(24),
                title=alt.TitleParams(
                    text=textwrap.wrap(question.label, 70) or question.label,
                    fontSize=12,
                    anchor="start",
                ),
            )
        )
        charts.append(vega.unit(chart))
    if not charts:
        return None
    return {"vconcat": charts, "spacing": 24, "resolve": {"scale": {"color": "independent"}}}
