"""Benchmark of reporting's document path: one organisation's PDF report, first and cached.

Through the code the endpoint runs (`usecases.documents.document_for`: access check,
report from the stored figures, cache lookup, render in a worker thread, store), against
a throw-away reporting database loaded as `bench/reporting.py` loads it (150
organisations × 300 questions, the figures computed by the real worker code):

1. baseline: reading the report alone (`reports.build_report`), the floor of every request;
2. first request per organisation (nothing cached: infographic SVG and PDF rendered);
3. the same request again (served from `rendered_document`).

Goal (issue 8): first render of one organisation's PDF p95 under 3 s; cached after. At
300 questions (about 120 pages) the rendering alone takes far longer (see
bench/rendering.py, `report_pdf.large`); what this bench shows is what the endpoint adds
around the renderers, and that the second request is a cache read.
Writes bench/results/<UTC date>-documents.json and prints a summary.
Usage: `uv run python bench/documents.py [--renders 5] [--organisations 150]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reporting import build_questionnaire, load  # bench/reporting.py, next to this file

from bibmon_common.auth import Principal
from bibmon_common.clock import SystemClock
from bibmon_common.db import create_pool
from bibmon_common.logging import configure_logging
from bibmon_common.testing.db import fresh_database
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.deps import build_deps
from bibmon_reporting.main import MIGRATIONS_DIR
from bibmon_reporting.rendering import warm_up
from bibmon_reporting.usecases import benchmarks, documents, reports

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_P95_SECONDS = 3.0


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(len(ordered) * 0.95) - 1)]


def _summary(samples: list[float]) -> dict[str, Any]:
    return {
        "runs": len(samples),
        "p50_s": round(statistics.median(samples), 3),
        "p95_s": round(_p95(samples), 3),
        "max_s": round(max(samples), 3),
    }


async def run(organisations: int, renders: int) -> dict[str, Any]:
    """Load a survey, then time report reads, first PDF requests and cached ones."""
    researcher = Principal(
        user_id=uuid.uuid4(), roles=frozenset({"researcher"}), organisation_id=None
    )
    async with fresh_database("bibmon_bench_doc", migrations_dir=MIGRATIONS_DIR) as dsn:
        pool = await create_pool(dsn, max_size=4)
        try:
            survey_id = uuid.uuid4()
            ids = await load(pool, survey_id, organisations, build_questionnaire())
            deps = build_deps(ReportingSettings(min_group_size=3))(pool, SystemClock())
            assert await benchmarks.compute_survey(deps, survey_id)
            await asyncio.to_thread(warm_up)
            reads, first, cached = [], [], []
            sizes = []
            for org_id in ids[:renders]:
                t = time.perf_counter()
                async with pool.acquire() as conn:
                    await reports.build_report(conn, survey_id, org_id, min_group_size=3)
                reads.append(time.perf_counter() - t)
                t = time.perf_counter()
                doc = await documents.document_for(deps, researcher, survey_id, org_id, "pdf", "nl")
                first.append(time.perf_counter() - t)
                assert not doc.cached
                sizes.append(len(doc.body))
                t = time.perf_counter()
                again = await documents.document_for(
                    deps, researcher, survey_id, org_id, "pdf", "nl"
                )
                cached.append(time.perf_counter() - t)
                assert again.cached
                assert again.body == doc.body
        finally:
            await pool.close()
    return {
        "organisations": organisations,
        "questions": 300,
        "pdf_bytes_median": int(statistics.median(sizes)),
        "baseline_report_read": _summary(reads),
        "first_request_pdf": _summary(first),
        "cached_request_pdf": _summary(cached),
        "goal_first_p95_s": GOAL_P95_SECONDS,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=5)
    parser.add_argument("--organisations", type=int, default=150)
    args = parser.parse_args()
    configure_logging("bench", "WARNING", False)
    result = await run(args.organisations, args.renders)
    print(
        f"PDF of one organisation ({result['questions']} questions): first request p95 "
        f"{result['first_request_pdf']['p95_s']} s (goal < {GOAL_P95_SECONDS} s), cached p95 "
        f"{result['cached_request_pdf']['p95_s']} s, report read alone p95 "
        f"{result['baseline_report_read']['p95_s']} s"
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC).date().isoformat()}-documents.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "documents",
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "load_average": os.getloadavg(),
                    "python": platform.python_version(),
                },
                "results": result,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    asyncio.run(main())
