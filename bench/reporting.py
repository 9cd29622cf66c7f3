"""Benchmarks of reporting: all benchmark figures of one survey, and one report read.

For 150 and 10,000 organisations × 300 questions (240 numeric, a quarter of them per
inhabitant; 40 yes/no; 20 single choice, which is about the national library statistics
at its largest): the counted answers are loaded straight into reporting's read model (a
throw-away database built by reporting's migrations), then

1. `benchmarks.compute_survey` — the real path: every group figure (n, mean, quartiles,
   min, max) for the nation, 12 provinces and 4 size classes, per 1,000 inhabitants too,
   every organisation's percentile ranks and every choice distribution, in one
   transaction, as the worker runs it after a close or a change;
2. a baseline in the same run: the same `percentile_cont` quartiles, mean, min and max per
   question over a bare two-column table holding the same numeric values, national only
   (the least any correct SQL computation must do); the ratio says what the groups, the
   per-inhabitant figures and the ranks cost on top;
3. reading one organisation's report (`reports.build_report`), p50/p95 over 30 reads.

Targets (issue 8): all figures for 10,000 organisations in under 60 s, 150 in under 2 s,
on this 2-core machine. Writes bench/results/<UTC date>-reporting.json and prints a
summary. Usage: `uv run python bench/reporting.py [--sizes 150 10000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bibmon_common.clock import SystemClock
from bibmon_common.db import create_pool
from bibmon_common.logging import configure_logging
from bibmon_common.organisations import PROVINCES, SizeClass
from bibmon_common.questionnaire import Questionnaire
from bibmon_common.testing.db import fresh_database
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.deps import build_deps
from bibmon_reporting.main import MIGRATIONS_DIR
from bibmon_reporting.usecases import benchmarks, reports

RESULTS = Path(__file__).resolve().parent / "results"
QUESTIONS = 300


def build_questionnaire() -> Questionnaire:
    """300 questions over 10 sections: 240 numeric (every 4th per inhabitant), 40 yes/no,
    20 single choice."""
    questions: list[dict[str, Any]] = []
    for i in range(QUESTIONS):
        if i % 15 < 12:
            q: dict[str, Any] = {"key": f"n{i:03d}", "type": "integer", "label": f"Getal {i}"}
            if i % 4 == 0:
                q["per_inhabitant"] = True
        elif i % 15 < 14:
            q = {"key": f"y{i:03d}", "type": "yes_no", "label": f"Ja/nee {i}"}
        else:
            q = {
                "key": f"c{i:03d}",
                "type": "single_choice",
                "label": f"Keuze {i}",
                "options": [{"value": f"o{k}", "label": f"Optie {k}"} for k in range(4)],
            }
        questions.append(q)
    return Questionnaire.model_validate(
        {
            "sections": [
                {
                    "key": f"s{s}",
                    "title": f"Sectie {s}",
                    "questions": questions[s * 30 : s * 30 + 30],
                }
                for s in range(10)
            ]
        }
    )


async def load(pool: Any, survey_id: uuid.UUID, orgs: int, q: Questionnaire) -> list[uuid.UUID]:
    """Organisations and their counted answers, straight into the read model (COPY)."""
    rng = random.Random(orgs)
    ids = [uuid.uuid4() for _ in range(orgs)]
    sizes = list(SizeClass)
    now = datetime.now(UTC)
    org_rows = [
        (
            i,
            f"Bibliotheek {n}",
            rng.choice(PROVINCES),
            [],
            rng.randint(5_000, 800_000),
            rng.choice(sizes).value,
            now,
        )
        for n, i in enumerate(ids)
    ]
    numeric_keys = [x.key for x in q.questions() if x.numeric]
    choice_qs = [x for x in q.questions() if not x.numeric]
    numeric_rows = [
        (survey_id, key, org, float(rng.randint(0, 1_000_000)))
        for org in ids
        for key in numeric_keys
        if rng.random() < 0.95  # some left open
    ]
    choice_rows = []
    for org in ids:
        for x in choice_qs:
            option = (
                rng.choice(["true", "false"])
                if x.type == "yes_no"
                else rng.choice([o.value for o in x.options])
            )
            choice_rows.append((survey_id, x.key, org, option))
    async with pool.acquire() as conn:
        await conn.copy_records_to_table(
            "organisation",
            records=org_rows,
            columns=[
                "id",
                "name",
                "province",
                "municipalities",
                "inhabitants",
                "size_class",
                "source_time",
            ],
        )
        await conn.execute(
            "INSERT INTO survey (id, title, opens_at, closes_at, source_time)"
            " VALUES ($1, 'Bench', now(), now(), now())",
            survey_id,
        )
        await conn.execute(
            "INSERT INTO questionnaire_version VALUES ($1, 1, $2)",
            survey_id,
            q.model_dump(mode="json"),
        )
        await conn.execute(
            "INSERT INTO counted_response SELECT $1, o, gen_random_uuid(), 1, now(), 1, '{}'"
            " FROM unnest($2::uuid[]) AS o",
            survey_id,
            ids,
        )
        await conn.copy_records_to_table(
            "answer_numeric",
            records=numeric_rows,
            columns=["survey_id", "question_key", "organisation_id", "value"],
        )
        await conn.copy_records_to_table(
            "answer_choice",
            records=choice_rows,
            columns=["survey_id", "question_key", "organisation_id", "option"],
        )
        await conn.execute("INSERT INTO benchmark_state (survey_id) VALUES ($1)", survey_id)
        await conn.execute(
            "CREATE TABLE bare (q text, x double precision);"
            " INSERT INTO bare SELECT question_key, value FROM answer_numeric;"
            " ANALYZE"
        )
    return ids


BASELINE = """
SELECT q, count(*), avg(x), min(x), max(x),
       percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY x)
FROM bare GROUP BY q
"""


async def run_size(orgs: int, repeat: int) -> dict[str, Any]:
    """Load one survey of `orgs` organisations and time the computation and the baseline."""
    q = build_questionnaire()
    async with fresh_database("bibmon_bench_rep", migrations_dir=MIGRATIONS_DIR) as dsn:
        pool = await create_pool(dsn, max_size=4)
        deps = build_deps(ReportingSettings(min_group_size=3))(pool, SystemClock())
        try:
            survey_id = uuid.uuid4()
            started = time.perf_counter()
            ids = await load(pool, survey_id, orgs, q)
            load_s = time.perf_counter() - started
            async with pool.acquire() as conn:
                values = await conn.fetchval("SELECT count(*) FROM answer_numeric")
            compute, baseline = [], []
            for _ in range(repeat):
                t = time.perf_counter()
                async with pool.acquire() as conn:
                    await conn.execute("SET work_mem = '256MB'")
                    await conn.fetch(BASELINE)
                    await conn.execute("RESET work_mem")
                baseline.append(time.perf_counter() - t)
                async with pool.acquire() as conn:
                    await conn.execute(
                        "UPDATE benchmark_state SET change_seq = change_seq + 1"
                        " WHERE survey_id = $1",
                        survey_id,
                    )
                t = time.perf_counter()
                assert await benchmarks.compute_survey(deps, survey_id)
                compute.append(time.perf_counter() - t)
            async with pool.acquire() as conn:
                groups = await conn.fetchval(
                    "SELECT count(*) FROM benchmark_numeric WHERE survey_id = $1", survey_id
                )
                ranks = await conn.fetchval(
                    "SELECT count(*) FROM benchmark_rank WHERE survey_id = $1", survey_id
                )
            reads = []
            rng = random.Random(1)
            for _ in range(30):
                t = time.perf_counter()
                async with pool.acquire() as conn:
                    report = await reports.build_report(
                        conn, survey_id, rng.choice(ids), min_group_size=3
                    )
                reads.append(time.perf_counter() - t)
            assert report.counted == orgs
        finally:
            await pool.close()
    best, base = min(compute), min(baseline)
    return {
        "organisations": orgs,
        "questions": QUESTIONS,
        "numeric_values": values,
        "group_figure_rows": groups,
        "rank_rows": ranks,
        "load_seconds": round(load_s, 2),
        "compute_seconds": [round(x, 3) for x in compute],
        "baseline_seconds": [round(x, 3) for x in baseline],
        "compute_best_seconds": round(best, 3),
        "baseline_best_seconds": round(base, 3),
        "ratio_to_baseline": round(best / base, 1),
        "report_read_ms_p50": round(statistics.median(reads) * 1000, 1),
        "report_read_ms_p95": round(sorted(reads)[int(len(reads) * 0.95) - 1] * 1000, 1),
        "target_seconds": 2 if orgs <= 150 else 60,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    configure_logging("bench", "WARNING", False)
    results = []
    for size in args.sizes:
        result = await run_size(size, args.repeat if size <= 1000 else 1)
        results.append(result)
        print(
            f"{size:>6} organisations × {QUESTIONS} questions: all figures in "
            f"{result['compute_best_seconds']} s (baseline {result['baseline_best_seconds']} s,"
            f" ratio {result['ratio_to_baseline']}×; target < {result['target_seconds']} s);"
            f" report read p95 {result['report_read_ms_p95']} ms"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC).date().isoformat()}-reporting.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "reporting",
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    asyncio.run(main())
