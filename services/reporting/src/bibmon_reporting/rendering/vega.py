"""Vega-Lite to SVG/PNG with vl-convert: no browser, no network, local fonts only.

The specs carry their data inline, and vl-convert may fetch nothing (`allowed_base_urls`
is empty), so a render never depends on the network. The fonts are DejaVu Sans (Debian's
`fonts-dejavu-core`), registered explicitly so SVG, PNG and the PDF use the same metrics.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Literal

import altair as alt
import vl_convert as vlc

FONT_FAMILY = "DejaVu Sans"
# Where Debian and Fedora put DejaVu; BIBMON_REPORTING_FONT_DIR overrides for other hosts.
_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/TTF",
)
FONT_DIR_ENV = "BIBMON_REPORTING_FONT_DIR"

# KB-like sober palette; every text colour has at least 4.5:1 contrast on white.
INK = "#1a1a1a"
MUTED = "#4d4d4d"
ACCENT = "#00587a"  # own library: dark petrol (7.3:1 on white)
# The groups' bars: one grey (4.1:1), since each row is labelled; 3:1 suffices for bars.
GROUP_COLOUR = "#6f7b84"
GRID = "#d9dde0"

_registered = False
_lock = threading.Lock()


def font_dir() -> Path | None:
    """The directory with the DejaVu fonts, or None when this host has none."""
    configured = os.environ.get(FONT_DIR_ENV)
    candidates = (configured,) if configured else _FONT_DIRS
    for candidate in candidates:
        path = Path(candidate)
        if (path / "DejaVuSans.ttf").is_file():
            return path
    return None


def register_fonts() -> None:
    """Register the local fonts with vl-convert once per process."""
    global _registered
    with _lock:
        if _registered:
            return
        directory = font_dir()
        if directory is not None:
            vlc.register_font_directory(str(directory))
        _registered = True


SCHEMA = alt.SCHEMA_URL


def unit(chart: alt.Chart) -> dict[str, Any]:
    """One altair unit chart as a dict to nest in a composition."""
    spec = chart.to_dict(validate=False)
    spec.pop("$schema", None)
    spec.pop("config", None)
    return spec


BASE_CONFIG: dict[str, Any] = {
    "font": FONT_FAMILY,
    "background": "white",
    "view": {"stroke": None},
    "title": {"color": INK, "subtitleColor": MUTED, "anchor": "start"},
    "axis": {
        "labelColor": INK,
        "titleColor": INK,
        "domainColor": MUTED,
        "tickColor": MUTED,
        "gridColor": GRID,
        "labelFontSize": 11,
        "titleFontSize": 11,
        "titleFontWeight": "normal",
    },
    "legend": {"labelColor": INK, "titleColor": INK, "labelFontSize": 11, "titleFontSize": 11},
    "text": {"color": INK},
}


# d3-format locales for the few numbers Vega formats itself (axis ticks).
_D3_LOCALES: dict[str, Literal["nl-NL", "en-GB"]] = {"nl": "nl-NL", "en": "en-GB"}


def to_svg(spec: dict[str, Any], locale: str = "nl") -> str:
    """The SVG of a Vega-Lite spec."""
    register_fonts()
    return str(vlc.vegalite_to_svg(spec, allowed_base_urls=[], format_locale=_D3_LOCALES[locale]))


def to_png(spec: dict[str, Any], scale: float, locale: str = "nl") -> bytes:
    """The PNG of a Vega-Lite spec at `scale` times its CSS pixel size."""
    register_fonts()
    return bytes(
        vlc.vegalite_to_png(
            spec, scale=scale, allowed_base_urls=[], format_locale=_D3_LOCALES[locale]
        )
    )


def svg_to_png(svg: str, scale: float) -> bytes:
    """The PNG of an SVG document (rendered by vl-convert's resvg with the same fonts)."""
    register_fonts()
    return bytes(vlc.svg_to_png(svg, scale=scale))
