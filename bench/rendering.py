"""Benchmarks of reporting's renderers: one organisation's report PDF and infographic.

Measures, in one process and one run, so the ratios hold even on a busy machine:

1. Baselines: WeasyPrint turning a trivial HTML page into a PDF, and vl-convert drawing a
   trivial one-bar chart as SVG and PNG.
2. The infographic (SVG, PNG) of the sample report.
3. The report PDF ("first render": nothing cached between renders, as on the first
   request after a correction) of the sample report (three sections, ten questions) and
   of a report the size of the national library statistics (300 questions); the warm-up
   of a fresh process (V8, fonts, Pango) is timed apart.

Each figure is given as wall-clock and as CPU time of the process: on a machine shared
with other work the wall-clock time grows with the load average, the CPU time hardly.

Goal (issue 8): first render of one organisation's PDF p95 under 3 s. Writes
bench/results/<UTC date>-rendering.json and prints a summary.
Usage: `uv run python bench/rendering.py [--renders 20] [--large-renders 3]`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert as vlc
from pypdf import PdfReader
from weasyprint import HTML

from bibmon_reporting.rendering import (
    render_infographic_png,
    render_infographic_svg,
    render_report_pdf,
    warm_up,
)
from bibmon_reporting.rendering.sample import large_report, sample_report
from bibmon_reporting.rendering.vega import register_fonts

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_P95_SECONDS = 3.0

TRIVIAL_HTML = (
    "<!DOCTYPE html><html lang='nl'><head><meta charset='utf-8'><title>Leeg</title></head>"
    "<body><h1>Bibliotheek</h1><p>Eén alinea tekst.</p></body></html>"
)


def _trivial_chart() -> dict[str, Any]:
    data = alt.Data(values=[{"groep": "Nederland", "waarde": 1234.5}])
    chart = alt.Chart(data).mark_bar().encode(y="groep:N", x="waarde:Q")
    return chart.to_dict(validate=False)


def _time(fn: Callable[[], object], runs: int) -> dict[str, Any]:
    """Wall-clock and CPU time (all threads of the process) of `runs` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {**_summary(wall), "cpu": _summary(cpu)}


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def _summary(samples: list[float]) -> dict[str, Any]:
    return {
        "runs": len(samples),
        "median_s": round(statistics.median(samples), 4),
        "p95_s": round(_p95(samples), 4),
        "max_s": round(max(samples), 4),
    }


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    return round(a["median_s"] / b["median_s"], 1) if b["median_s"] else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--large-renders", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other work on the machine skews the figures; compare runs with this in mind.
            "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        },
    }
    report = sample_report()
    large = large_report()

    # Cold start: a fresh process pays once for V8, fonts and Pango; the service does so
    # at startup with warm_up(), so the first request does not.
    start = time.perf_counter()
    warm_up()
    warm_up_s = time.perf_counter() - start
    start = time.perf_counter()
    first_pdf = render_report_pdf(report)
    first_pdf_s = time.perf_counter() - start
    sample_pages = len(PdfReader(io.BytesIO(first_pdf)).pages)

    register_fonts()
    spec = _trivial_chart()
    baseline = {
        "weasyprint_trivial_pdf": _time(
            lambda: HTML(string=TRIVIAL_HTML).write_pdf(), args.renders
        ),
        "vl_convert_trivial_svg": _time(lambda: vlc.vegalite_to_svg(spec), args.renders),
        "vl_convert_trivial_png": _time(lambda: vlc.vegalite_to_png(spec, scale=2), args.renders),
    }
    infographic = {
        "svg": _time(lambda: render_infographic_svg(report), args.renders),
        "png_scale_2": _time(lambda: render_infographic_png(report, scale=2), args.renders),
    }
    pdf_sample = _time(lambda: render_report_pdf(report), args.renders)
    large_pdf = render_report_pdf(large)
    pdf_large = _time(lambda: render_report_pdf(large), args.large_renders)

    result["baseline"] = baseline
    result["infographic"] = {
        **infographic,
        "svg_vs_trivial_svg": _ratio(infographic["svg"], baseline["vl_convert_trivial_svg"]),
        "png_vs_trivial_png": _ratio(
            infographic["png_scale_2"], baseline["vl_convert_trivial_png"]
        ),
    }
    result["report_pdf"] = {
        "warm_up_s": round(warm_up_s, 3),
        "first_after_warm_up_s": round(first_pdf_s, 3),
        "sample": {
            "questions": sum(len(s.questions) for s in report.sections),
            "pages": sample_pages,
            "bytes": len(first_pdf),
            **pdf_sample,
            "vs_trivial_pdf": _ratio(pdf_sample, baseline["weasyprint_trivial_pdf"]),
            "goal_p95_s": GOAL_P95_SECONDS,
            "goal_met_wall_clock": pdf_sample["p95_s"] < GOAL_P95_SECONDS,
            # CPU time is what an idle machine would see as wall-clock time.
            "goal_met_cpu": pdf_sample["cpu"]["p95_s"] < GOAL_P95_SECONDS,
        },
        "large": {
            "questions": sum(len(s.questions) for s in large.sections),
            "pages": len(PdfReader(io.BytesIO(large_pdf)).pages),
            "bytes": len(large_pdf),
            **pdf_large,
            "vs_trivial_pdf": _ratio(pdf_large, baseline["weasyprint_trivial_pdf"]),
        },
    }
    result["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    result["total_seconds"] = round(time.perf_counter() - started, 1)

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC).date().isoformat()}-rendering.json"
    out.write_text(json.dumps(result, indent=2) + "\n")

    sample = result["report_pdf"]["sample"]
    print(
        f"load average: {result['machine']['load_average_1m_at_start']} → "
        f"{result['machine']['load_average_1m_at_end']} on {result['machine']['cpus']} CPUs"
    )
    print(
        f"baseline: trivial PDF {baseline['weasyprint_trivial_pdf']['median_s']} s, "
        f"trivial chart SVG {baseline['vl_convert_trivial_svg']['median_s']} s, "
        f"PNG {baseline['vl_convert_trivial_png']['median_s']} s"
    )
    print(
        f"infographic: SVG median {infographic['svg']['median_s']} s "
        f"p95 {infographic['svg']['p95_s']} s; PNG median "
        f"{infographic['png_scale_2']['median_s']} s p95 {infographic['png_scale_2']['p95_s']} s"
    )
    report_pdf = result["report_pdf"]
    print(
        f"warm-up {report_pdf['warm_up_s']} s, then first report PDF "
        f"{report_pdf['first_after_warm_up_s']} s"
    )
    print(
        f"report PDF, {sample['questions']} questions / {sample['pages']} pages: median "
        f"{sample['median_s']} s, p95 {sample['p95_s']} s wall-clock; CPU p95 "
        f"{sample['cpu']['p95_s']} s (goal < {GOAL_P95_SECONDS} s: wall-clock "
        f"{'met' if sample['goal_met_wall_clock'] else 'NOT met'}, CPU "
        f"{'met' if sample['goal_met_cpu'] else 'NOT met'}), {sample['vs_trivial_pdf']}x trivial"
    )
    big = report_pdf["large"]
    print(
        f"report PDF, {big['questions']} questions / {big['pages']} pages: median "
        f"{big['median_s']} s, p95 {big['p95_s']} s wall-clock, CPU median "
        f"{big['cpu']['median_s']} s, {big['vs_trivial_pdf']}x trivial"
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
