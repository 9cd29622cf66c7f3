"""Renderers of one organisation's report: infographic (SVG, PNG) and report (HTML, PDF)."""

from bibmon_reporting.rendering.infographic import (
    infographic_text_alternative,
    render_infographic_png,
    render_infographic_svg,
)
from bibmon_reporting.rendering.report import (
    render_report_html,
    render_report_pdf,
    report_css,
    warm_up,
)

__all__ = [
    "infographic_text_alternative",
    "render_infographic_png",
    "render_infographic_svg",
    "render_report_html",
    "render_report_pdf",
    "report_css",
    "warm_up",
]
