"""Benchmark of open-data publication: 10,000 organisations × 300 questions (goal < 10 s).

1. In memory: `build_dataset` + `render_files` (CSV, JSON, dictionary, PII scan of the
   public free text, formula neutralisation), against a raw baseline in the same run:
   `csv.writer` and `json.dumps` over the very same values, with no rules at all.
2. End to end against the real PostgreSQL: `publish_survey` on a throw-away database
   built by reporting's migrations, the counted submissions loaded with COPY: read the
   read models, build, render, store the version (bytea) and its outbox row, commit.

Writes bench/results/<UTC date>-opendata.json and prints a summary.
Usage: `uv run python bench/opendata.py [--organisations N] [--questions N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import io
import json
import os
import platform
import random
import time
import tracemalloc
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bibmon_common.clock import SystemClock
from bibmon_common.db import create_pool, migrate
from bibmon_common.questionnaire import Questionnaire
from bibmon_common.testing.db import fresh_database
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.deps import build_deps
from bibmon_reporting.main import MIGRATIONS_DIR
from bibmon_reporting.opendata.dataset import (
    CountedAnswers,
    OrganisationInfo,
    SurveyInfo,
    build_dataset,
    render_files,
)
from bibmon_reporting.opendata.licence import LICENCES
from bibmon_reporting.usecases.opendata import publish_survey

RESULTS = Path(__file__).resolve().parent / "results"
PROVINCES = ("Groningen", "Fryslân", "Drenthe", "Overijssel", "Gelderland", "Utrecht")
REMARKS = (
    "Een vestiging was drie maanden gesloten voor verbouwing.",
    "Het aantal activiteiten steeg door de Bibliotheek op school.",
    "Sinds dit jaar tellen wij bezoeken met nieuwe poortjes.",
    "Bel 06-12345678 voor toelichting.",
    "",
)


def questionnaire(n: int, text_questions: int) -> Questionnaire:
    """`n` public questions: mostly numbers, some yes/no and choices, a few free texts."""
    questions: list[dict[str, Any]] = []
    for i in range(n):
        key = f"q{i:03d}"
        if i < text_questions:
            questions.append(
                {"key": key, "type": "short_text", "label": key, "publication": "public"}
            )
        elif i % 10 == 1:
            questions.append({"key": key, "type": "yes_no", "label": key})
        elif i % 10 == 2:
            options = [{"value": f"o{j}", "label": f"Optie {j}"} for j in range(5)]
            questions.append(
                {"key": key, "type": "single_choice", "label": key, "options": options}
            )
        elif i % 10 == 3:
            questions.append({"key": key, "type": "decimal", "label": key, "unit": "fte"})
        else:
            questions.append({"key": key, "type": "integer", "label": key, "min": 0})
    sections = [
        {"key": f"s{j:02d}", "title": f"Sectie {j}", "questions": questions[j * 25 : j * 25 + 25]}
        for j in range((n + 24) // 25)
    ]
    return Questionnaire.model_validate({"sections": sections})


def answers_for(q: Questionnaire, rng: random.Random) -> dict[str, Any]:
    """Plausible answers; about 5 % of questions left open."""
    out: dict[str, Any] = {}
    for question in q.questions():
        if rng.random() < 0.05:
            continue
        if question.type == "short_text":
            out[question.key] = rng.choice(REMARKS)
        elif question.type == "yes_no":
            out[question.key] = rng.random() < 0.5
        elif question.type == "single_choice":
            out[question.key] = f"o{rng.randrange(5)}"
        elif question.type == "decimal":
            out[question.key] = round(rng.uniform(-5, 500), 1)
        else:
            out[question.key] = rng.randrange(0, 2_000_000)
    return out


def data(organisations: int, questions: int, text_questions: int) -> tuple[Any, ...]:
    rng = random.Random(42)
    q = questionnaire(questions, text_questions)
    orgs = {
        (oid := uuid.UUID(int=i + 1)): OrganisationInfo(
            oid, f"Bibliotheek {i:05d}", PROVINCES[i % 6], (f"Gemeente {i}",), "medium"
        )
        for i in range(organisations)
    }
    subs = [CountedAnswers(oid, 1, answers_for(q, rng)) for oid in orgs]
    return q, orgs, subs


def in_memory(q: Questionnaire, orgs: Any, subs: list[CountedAnswers]) -> dict[str, Any]:
    survey = SurveyInfo(uuid.UUID(int=0), "Bench", "bench", 2025)
    licence = LICENCES["CC0-1.0"]
    gc.collect()
    cpu_start = time.process_time()
    start = time.perf_counter()
    dataset = build_dataset(survey, {1: q}, orgs, subs)
    build_s = time.perf_counter() - start
    files = render_files(dataset, version=1, published_at=datetime.now(UTC), licence=licence)
    ours = time.perf_counter() - start
    ours_cpu = time.process_time() - cpu_start

    # Baseline: the same values straight into csv.writer and json.dumps, no rules.
    keys = [question.key for question in q.questions()]
    gc.collect()
    cpu_start = time.process_time()
    start = time.perf_counter()
    header = ["organisation_id", "name", "province", "municipalities", "size_class", *keys]
    rows = []
    for sub in subs:
        org = orgs[sub.organisation_id]
        answers = sub.answers
        rows.append(
            [
                str(org.organisation_id),
                org.name,
                org.province,
                ";".join(org.municipalities),
                org.size_class,
                *(answers.get(k) for k in keys),
            ]
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    raw_csv = buffer.getvalue().encode()
    raw_json = json.dumps([dict(zip(header, r, strict=True)) for r in rows]).encode()
    baseline = time.perf_counter() - start
    baseline_cpu = time.process_time() - cpu_start
    return {
        "build_dataset_s": round(build_s, 3),
        "render_files_s": round(ours - build_s, 3),
        "ours_s": round(ours, 3),
        "baseline_s": round(baseline, 3),
        "ratio": round(ours / baseline, 2),
        # CPU time of this process: less disturbed by other work on a shared machine.
        "ours_cpu_s": round(ours_cpu, 3),
        "baseline_cpu_s": round(baseline_cpu, 3),
        "ratio_cpu": round(ours_cpu / baseline_cpu, 2),
        "csv_bytes": len(files.csv),
        "json_bytes": len(files.json),
        "baseline_csv_bytes": len(raw_csv),
        "baseline_json_bytes": len(raw_json),
        "withheld": dataset.withheld,
    }


def peak_memory(q: Questionnaire, orgs: Any, subs: list[CountedAnswers]) -> float:
    """MiB allocated at the peak of build + render (a separate, untimed pass)."""
    survey = SurveyInfo(uuid.UUID(int=0), "Bench", "bench", 2025)
    gc.collect()
    tracemalloc.start()
    dataset = build_dataset(survey, {1: q}, orgs, subs)
    files = render_files(
        dataset, version=1, published_at=datetime.now(UTC), licence=LICENCES["CC0-1.0"]
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del dataset, files
    return round(peak / 2**20, 1)


async def end_to_end(q: Questionnaire, orgs: Any, subs: list[CountedAnswers]) -> dict[str, Any]:
    async with fresh_database("bibmon_bench_opendata") as dsn:
        await migrate(MIGRATIONS_DIR, dsn)
        pool = await create_pool(dsn, max_size=4)
        survey_id = uuid.uuid4()
        now = datetime.now(UTC)
        try:
            async with pool.acquire() as conn:
                await conn.copy_records_to_table(
                    "organisation",
                    columns=[
                        "id",
                        "name",
                        "province",
                        "municipalities",
                        "inhabitants",
                        "size_class",
                        "source_time",
                    ],
                    records=[
                        (
                            o.organisation_id,
                            o.name,
                            o.province,
                            list(o.municipalities),
                            50_000,
                            o.size_class,
                            now,
                        )
                        for o in orgs.values()
                    ],
                )
                await conn.execute(
                    "INSERT INTO survey (id, series_key, title, opens_at, closes_at, closed_at)"
                    " VALUES ($1, 'bench', 'Bench', $2, $2, $2)",
                    survey_id,
                    now,
                )
                await conn.execute(
                    "INSERT INTO questionnaire_version VALUES ($1, 1, $2)",
                    survey_id,
                    q.model_dump(mode="json"),
                )
                await conn.execute("INSERT INTO benchmark_state (survey_id) VALUES ($1)", survey_id)
                # No COPY: asyncpg has no binary COPY encoder for jsonb.
                await conn.executemany(
                    "INSERT INTO counted_response (survey_id, organisation_id, response_id,"
                    " submission, submitted_at, questionnaire_version, answers)"
                    " VALUES ($1, $2, $3, 1, $4, 1, $5)",
                    [(survey_id, s.organisation_id, uuid.uuid4(), now, s.answers) for s in subs],
                )
            deps = build_deps(ReportingSettings())(pool, SystemClock())
            gc.collect()
            cpu_start = time.process_time()
            start = time.perf_counter()
            version = await publish_survey(deps, survey_id)
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            assert version == 1
            async with pool.acquire() as conn:
                stored = await conn.fetchval(
                    "SELECT octet_length(csv) + octet_length(json) FROM open_dataset"
                )
        finally:
            await pool.close()
    return {
        "publish_survey_s": round(elapsed, 3),
        # reporting's own CPU time; PostgreSQL works in its own processes besides
        "publish_survey_cpu_s": round(cpu, 3),
        "stored_bytes": stored,
    }


async def main() -> None:
    """Run both measurements and write one result file."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--organisations", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--text-questions", type=int, default=10)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    q, orgs, subs = data(args.organisations, args.questions, args.text_questions)
    memory = in_memory(q, orgs, subs)
    memory["peak_mib_build_and_render"] = peak_memory(q, orgs, subs)
    e2e = await end_to_end(q, orgs, subs)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1m_at_start": round(load_start, 2),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "organisations": args.organisations,
        "questions": args.questions,
        "public_text_questions": args.text_questions,
        "goal_s": 10.0,
        "in_memory": memory,
        "end_to_end": e2e,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-opendata.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"open data {args.organisations} × {args.questions}: build+render "
        f"{memory['ours_s']} s, CPU {memory['ours_cpu_s']} s (raw csv/json baseline "
        f"{memory['baseline_s']} s, CPU {memory['baseline_cpu_s']} s; ×{memory['ratio']}, "
        f"CPU ×{memory['ratio_cpu']}); publish_survey end to end {e2e['publish_survey_s']} s "
        f"(goal < 10 s) → {out.relative_to(RESULTS.parent.parent)}"
    )


if __name__ == "__main__":
    asyncio.run(main())
