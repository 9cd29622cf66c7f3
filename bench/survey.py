"""Benchmarks of the survey journey on this machine.

1. Answer validation of a questionnaire the size of the national library statistics
   (≈400 questions over 12 sections): `validate_answers(complete=True)` per second, and
   the peak memory of building the `Questionnaire` model.
2. Colleagues editing one shared response together: E editors autosave their own
   questions concurrently through `services.save_answers` (the use case behind
   `PUT /surveys/{id}/response`), each with the version of its own previous save; then two
   editors hammer the same question. Counts conflicts and checks no answer is lost or
   silently overwritten.
3. The notifier's reminder run at 100× scale: one open survey with 15,000 participating
   organisations (a third submitted), one `schedule_reminders` tick at a due offset and
   one when nothing new is due.

Runs against the real PostgreSQL (throw-away databases built by the services' own
migrations), bounded in count and time. Writes bench/results/<UTC date>-survey.json and
prints a summary. Usage: `make bench` or `uv run python bench/survey.py [--editors N ...]`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import asyncpg

from bibmon_common.clock import FrozenClock, SystemClock
from bibmon_common.contracts.responses import ResponseSubmitted
from bibmon_common.contracts.surveys import SurveyPublished
from bibmon_common.db import create_pool
from bibmon_common.errors import Conflict
from bibmon_common.events import Message, to_envelope
from bibmon_common.logging import configure_logging
from bibmon_common.messaging.handlers import bind
from bibmon_common.questionnaire import Question, Questionnaire, validate_answers
from bibmon_common.testing.db import fresh_database
from bibmon_notifier import consumers as notifier_consumers
from bibmon_notifier import repository as notifier_repository
from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.deps import build_deps as build_notifier_deps
from bibmon_notifier.main import MIGRATIONS_DIR as NOTIFIER_MIGRATIONS
from bibmon_notifier.usecases.survey_mail import schedule_reminders
from bibmon_responses import consumers as responses_consumers
from bibmon_responses import usecases as responses
from bibmon_responses.config import ResponsesSettings
from bibmon_responses.deps import build_deps
from bibmon_responses.main import MIGRATIONS_DIR as RESPONSES_MIGRATIONS

RESULTS = Path(__file__).resolve().parent / "results"
SOURCE = "bibmon-bench"

# --- a questionnaire the size of the national library statistics -------------------------

# One cycle of question kinds; index 6 depends on the yes/no at 5, index 9 on the multiple
# choice at 8 (show_if), so ≈1 in 8 questions is conditional.
_KINDS: list[dict[str, Any]] = [
    {"type": "integer", "required": True, "min": 0},
    {"type": "integer", "required": True, "min": 0, "max": 10_000_000},
    {"type": "amount", "required": True, "min": 0, "unit": "euro"},
    {"type": "decimal", "min": 0},
    {"type": "percentage", "required": True},
    {"type": "yes_no", "required": True},
    {"type": "integer", "required": True, "min": 0, "show_if": -1},
    {"type": "single_choice", "required": True, "options": 4},
    {"type": "multiple_choice", "options": 6},
    {"type": "integer", "min": 0, "show_if": -1},
    {"type": "short_text"},
    {"type": "date"},
    {"type": "integer", "min": 0},
    {"type": "amount", "min": 0},
    {"type": "long_text"},
    {"type": "yes_no"},
]


def build_questionnaire(questions: int = 400, sections: int = 12) -> dict[str, Any]:
    """Raw questionnaire JSON: `questions` questions of mixed types over `sections`."""
    made: list[dict[str, Any]] = []
    for i in range(questions):
        kind = dict(_KINDS[i % len(_KINDS)])
        q: dict[str, Any] = {
            "key": f"v{i:03d}_{kind['type']}",
            "type": kind["type"],
            "label": f"Vraag {i + 1}: {kind['type'].replace('_', ' ')} over de bibliotheek",
            "help": "Tel alle vestigingen en servicepunten mee.",
            "required": kind.get("required", False),
        }
        for bound in ("min", "max", "unit"):
            if bound in kind:
                q[bound] = kind[bound]
        if "options" in kind:
            q["options"] = [
                {"value": f"o{n}", "label": f"Optie {n}"} for n in range(kind["options"])
            ]
        if "show_if" in kind and made:
            parent = made[-1]
            equals: Any = True if parent["type"] == "yes_no" else "o2"
            q["show_if"] = {"question": parent["key"], "equals": equals}
        made.append(q)
    per, extra = divmod(questions, sections)
    out, start = [], 0
    for s in range(sections):
        size = per + (1 if s < extra else 0)
        out.append(
            {
                "key": f"sectie_{s + 1:02d}",
                "title": f"Sectie {s + 1}",
                "description": "Cijfers over het verslagjaar.",
                "questions": made[start : start + size],
            }
        )
        start += size
    return {"sections": out}


def value_for(question: Question, n: int) -> Any:
    """A valid answer to `question`; different `n` give different values (for n < 100)."""
    t = question.type
    if t == "integer":
        return int(question.lower or 0) + n
    if t == "amount":
        return round(1000 + n * 12.25, 2)
    if t == "decimal":
        return 0.5 + n
    if t == "percentage":
        return float(n % 100) + 0.5
    if t == "yes_no":
        return True  # also shows the questions that depend on it
    if t == "single_choice":
        return question.options[n % len(question.options)].value
    if t == "multiple_choice":
        others = [o.value for o in question.options if o.value != "o2"]
        return ["o2", *others[: n % len(others)]]  # "o2" shows the question after it
    if t == "short_text":
        return f"antwoord {n}"
    if t == "long_text":
        return f"Toelichting {n}: " + "de bibliotheek organiseerde activiteiten. " * 10
    if t == "date":
        return (date(2026, 1, 1) + timedelta(days=n % 365)).isoformat()
    raise AssertionError(t)


def full_answers(questionnaire: Questionnaire) -> dict[str, Any]:
    return {q.key: value_for(q, i) for i, q in enumerate(questionnaire.questions())}


# --- helpers ---------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def latency_ms(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values), 2),
        "p95_ms": round(p95(values), 2),
        "max_ms": round(max(values), 2),
    }


async def handle(pool: asyncpg.Pool, handler: Any, message: Message, at: datetime) -> None:
    """Run a consumer handler in a transaction, as the consumer does (without the broker)."""
    envelope = to_envelope(message, source=SOURCE, time=at)
    async with pool.acquire() as conn, conn.transaction():
        await handler(conn, message, envelope)


# --- 1. answer validation --------------------------------------------------------------


def validation(raw: dict[str, Any], count: int, max_seconds: float) -> dict[str, Any]:
    """validate_answers(complete=True) of a fully valid answer set; model build memory."""
    gc.collect()
    tracemalloc.start()
    questionnaire = Questionnaire.model_validate(raw)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    t0 = time.perf_counter()
    Questionnaire.model_validate(raw)
    build_ms = (time.perf_counter() - t0) * 1000
    answers = full_answers(questionnaire)
    assert validate_answers(questionnaire, answers, complete=True) == []
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < count and time.perf_counter() - started < max_seconds:
        t0 = time.perf_counter()
        validate_answers(questionnaire, answers, complete=True)
        times.append((time.perf_counter() - t0) * 1_000_000)
    elapsed = time.perf_counter() - started
    questions = list(questionnaire.questions())
    return {
        "questions": len(questions),
        "sections": len(questionnaire.sections),
        "conditional_questions": sum(q.show_if is not None for q in questions),
        "required_questions": sum(q.required for q in questions),
        "questionnaire_json_bytes": len(json.dumps(raw)),
        "validations": len(times),
        "validations_per_second": round(len(times) / elapsed, 1),
        "validate_us_median": round(statistics.median(times), 1),
        "validate_us_p95": round(p95(times), 1),
        "model_build_ms": round(build_ms, 2),
        "model_build_peak_kib": round(peak / 1024, 1),
    }


# --- 2. concurrent autosave on one shared response ------------------------------------


async def autosave(
    raw: dict[str, Any], editors: int, saves: int, hammer_saves: int
) -> dict[str, Any]:
    """E colleagues autosave their own questions of one response; then two fight over one."""
    async with fresh_database("bibmon_bench_resp", migrations_dir=RESPONSES_MIGRATIONS) as dsn:
        settings = ResponsesSettings(
            environment="test", database_url=dsn, log_json=False, log_level="WARNING"
        )
        # The service's own pool size: editors beyond it wait for a connection, as
        # concurrent requests do.
        pool = await create_pool(dsn)
        deps = build_deps(settings)(pool, SystemClock())
        organisation_id = uuid.uuid4()
        now = deps.now()
        published = SurveyPublished(
            survey_id=uuid.uuid4(),
            series_key=None,
            title="Bibliotheekmonitor benchmark",
            mandatory=True,
            legal_basis="wsob",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
            participants=(organisation_id,),
            questionnaire_version=1,
            questionnaire=Questionnaire.model_validate(raw),
        )
        handlers = bind(deps, responses_consumers.ROUTES)
        await handle(pool, handlers[SurveyPublished.type], published, now)
        survey_id = published.survey_id
        questionnaire = published.questionnaire
        # Questions with many distinct values, dealt round-robin: each editor its own.
        editable = [
            q
            for q in questionnaire.questions()
            if q.type not in ("yes_no", "single_choice", "multiple_choice")
        ]
        per_editor = 5
        assert len(editable) > editors * per_editor + 1, "questionnaire too small"
        own = {e: editable[e * per_editor : (e + 1) * per_editor] for e in range(editors)}
        # An integer question: every save below sends a value different from the last.
        contested = next(q for q in editable[editors * per_editor :] if q.type == "integer")

        async def save(answers: dict[str, Any], version: int) -> tuple[dict[str, Any], float]:
            t0 = time.perf_counter()
            # One request: the use case takes a pooled connection of its own.
            view = await responses.save_answers(deps, survey_id, organisation_id, answers, version)
            return view.model_dump(), (time.perf_counter() - t0) * 1000

        # The form as colleagues find it late in the survey: every other question answered
        # (one first save), so each save reads, validates and checks ≈400 answers.
        busy = {q.key for qs in own.values() for q in qs} | {contested.key}
        prefill = {
            q.key: value_for(q, i)
            for i, q in enumerate(questionnaire.questions())
            if q.key not in busy
        }
        opened, _ = await save(prefill, 0)

        # Round 1: distinct questions, stale versions (each editor's own last version).
        latencies: list[float] = []
        conflicts = 0
        last: dict[str, Any] = {}

        async def editor(e: int) -> None:
            nonlocal conflicts
            version = opened["version"]  # the form was loaded after the first save
            for i in range(saves):
                question = own[e][i % per_editor]
                value = value_for(question, i + 1)
                try:
                    view, ms = await save({question.key: value}, version)
                except Conflict:
                    conflicts += 1
                    continue
                latencies.append(ms)
                version = view["version"]
                last[question.key] = value

        t0 = time.perf_counter()
        async with asyncio.timeout(90):
            await asyncio.gather(*(editor(e) for e in range(editors)))
        elapsed = time.perf_counter() - t0
        stored = (await responses.get_response(deps, survey_id, organisation_id)).model_dump()
        lost = sum(1 for key, value in last.items() if stored["answers"].get(key) != value)
        round1 = {
            "editors": editors,
            "saves_per_editor": saves,
            "pool_size": pool.get_max_size(),
            "saves": len(latencies),
            "saves_per_second": round(len(latencies) / elapsed, 1),
            "seconds": round(elapsed, 2),
            **latency_ms(latencies),
            "conflicts_409": conflicts,
            "questions_checked": len(last),
            "lost": lost,
            "answers_stored": len(stored["answers"]),
            "final_version": stored["version"],
            "expected_version": opened["version"] + editors * saves,
        }

        # Baseline: one editor alone, one save after the other (the cost of one save with
        # nobody waiting for the response's row lock).
        solo: list[float] = []
        version = stored["version"]
        for i in range(saves):
            view, ms = await save({contested.key: value_for(contested, 1000 + i)}, version)
            solo.append(ms)
            version = view["version"]
        round1["solo_editor"] = {"saves": len(solo), **latency_ms(solo)}

        # Round 2: two editors save the same question as fast as they can. On a 409 the
        # editor takes the current version from the problem (a reload) and saves again.
        successes: list[dict[str, Any]] = []
        hammer_conflicts = 0
        start_version = version

        async def hammer(e: int) -> None:
            nonlocal hammer_conflicts
            version = start_version
            for i in range(hammer_saves):
                value = value_for(contested, 1 + e * 50 + i % 50)
                try:
                    view, _ = await save({contested.key: value}, version)
                except Conflict as conflict:
                    hammer_conflicts += 1
                    version = conflict.extra["version"]
                    continue
                successes.append(
                    {
                        "editor": e,
                        "base": version,
                        "revision": view["version"],
                        "value": value,
                        "stored_then": view["answers"].get(contested.key),
                    }
                )
                version = view["version"]

        t0 = time.perf_counter()
        async with asyncio.timeout(60):
            await asyncio.gather(hammer(0), hammer(1))
        hammer_elapsed = time.perf_counter() - t0
        final = (await responses.get_response(deps, survey_id, organisation_id)).model_dump()
        successes.sort(key=lambda s: s["revision"])
        # A save overwrote silently when the answer it replaced came from a save its
        # editor had not seen (that save's revision is above the editor's base version).
        silent = sum(1 for prev, cur in pairwise(successes) if cur["base"] < prev["revision"])
        not_stored_then = sum(1 for s in successes if s["stored_then"] != s["value"])
        revisions = [s["revision"] for s in successes]
        round2 = {
            "editors": 2,
            "saves_attempted": 2 * hammer_saves,
            "saves_ok": len(successes),
            "conflicts_409": hammer_conflicts,
            "seconds": round(hammer_elapsed, 2),
            "silent_overwrites": silent,
            "ok_save_not_stored_at_that_moment": not_stored_then,
            "revisions_unique": len(set(revisions)) == len(revisions),
            "final_value_is_last_ok_save": bool(successes)
            and final["answers"].get(contested.key) == successes[-1]["value"],
        }
        await pool.close()
    return {"distinct_questions": round1, "same_question": round2}


# --- 3. reminder run at 100× scale -----------------------------------------------------


async def reminders(organisations: int) -> dict[str, Any]:
    """One open survey, `organisations` participants, a third submitted; two ticks."""
    async with fresh_database("bibmon_bench_notif", migrations_dir=NOTIFIER_MIGRATIONS) as dsn:
        settings = NotifierSettings(
            environment="test", database_url=dsn, log_json=False, log_level="WARNING"
        )
        pool = await create_pool(dsn)
        clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
        notifier = build_notifier_deps(settings)(pool, clock)
        handlers = bind(notifier, notifier_consumers.SURVEY_ROUTES)
        participants = [uuid.uuid4() for _ in range(organisations)]
        published = SurveyPublished(
            survey_id=uuid.uuid4(),
            title="Bibliotheekmonitor benchmark",
            description="De jaarlijkse cijfers.",
            mandatory=True,
            legal_basis="wsob",
            opens_at=clock.now() - timedelta(hours=1),
            closes_at=clock.now() + timedelta(days=30),
            participants=tuple(participants),
            questionnaire_version=1,
            questionnaire=Questionnaire.model_validate(build_questionnaire(16, 1)),
        )
        t0 = time.perf_counter()
        await handle(pool, handlers[SurveyPublished.type], published, clock.now())
        publish_seconds = time.perf_counter() - t0

        # A third submits in the first days: one event, one transaction each.
        submitters = participants[::3]
        t0 = time.perf_counter()
        for n, organisation_id in enumerate(submitters):
            await handle(
                pool,
                handlers[ResponseSubmitted.type],
                ResponseSubmitted(
                    response_id=uuid.uuid4(),
                    survey_id=published.survey_id,
                    organisation_id=organisation_id,
                    submission=1,
                    submitted_at=clock.now(),
                    questionnaire_version=1,
                    answers={"v000_integer": n},
                ),
                clock.now(),
            )
        submitted_seconds = time.perf_counter() - t0

        # The 14-day reminder is due an hour ago.
        clock.set(published.closes_at - timedelta(days=14) + timedelta(hours=1))
        async with pool.acquire() as conn:
            t0 = time.perf_counter()
            due = len(await notifier_repository.due_reminders(conn, clock.now(), [14, 7, 1]))
            due_query_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        created = await schedule_reminders(notifier)
        tick_seconds = time.perf_counter() - t0

        clock.advance(timedelta(minutes=1))
        t0 = time.perf_counter()
        created_again = await schedule_reminders(notifier)
        idle_seconds = time.perf_counter() - t0

        async with pool.acquire() as conn:
            counts = {
                r["template"]: r["n"]
                for r in await conn.fetch(
                    "SELECT template, count(*) AS n FROM email_job GROUP BY template"
                )
            }
        await notifier.recipients.close()
        await pool.close()
    return {
        "organisations": organisations,
        "submitted": len(submitters),
        "publish_handler_seconds": round(publish_seconds, 2),
        "invitation_jobs": counts.get("survey_invitation", 0),
        "submitted_events": len(submitters),
        "submitted_events_per_second": round(len(submitters) / submitted_seconds, 1),
        "receipt_jobs": counts.get("response_receipt", 0),
        "due_query_ms": round(due_query_ms, 1),
        "due_reminders": due,
        "tick_jobs_created": created,
        "tick_seconds": round(tick_seconds, 2),
        "tick_jobs_per_second": round(created / tick_seconds, 1) if tick_seconds else None,
        "idle_tick_jobs_created": created_again,
        "idle_tick_seconds": round(idle_seconds, 3),
        "reminder_jobs": counts.get("survey_reminder", 0),
    }


async def postgres_version() -> str:
    async with fresh_database("bibmon_bench_ver") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()


async def main() -> None:
    """Run every survey benchmark and write one result file."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=400)
    parser.add_argument("--validations", type=int, default=3000)
    parser.add_argument("--editors", type=int, default=20)
    parser.add_argument("--saves", type=int, default=25)
    parser.add_argument("--hammer-saves", type=int, default=50)
    parser.add_argument("--organisations", type=int, default=15_000)
    args = parser.parse_args()
    # The services log every save at INFO; the benchmark measures the work, not the console.
    configure_logging("bench", "WARNING", json=False)
    started = time.perf_counter()
    raw = build_questionnaire(args.questions, 12)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "postgresql": await postgres_version(),
            # Other work on the machine skews the figures; compare runs with this in mind.
            "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        },
        "validation": validation(raw, args.validations, max_seconds=15),
        "autosave": await autosave(raw, args.editors, args.saves, args.hammer_saves),
        "reminders": await reminders(args.organisations),
    }
    result["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-survey.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    v, a, r = result["validation"], result["autosave"], result["reminders"]
    d, s = a["distinct_questions"], a["same_question"]
    print(
        f"validation: {v['questions']} questions, {v['validations_per_second']}/s, "
        f"median {v['validate_us_median']} µs, p95 {v['validate_us_p95']} µs; model build "
        f"{v['model_build_ms']} ms, peak {v['model_build_peak_kib']} KiB\n"
        f"autosave, {d['editors']} editors × {d['saves_per_editor']} saves, own questions: "
        f"{d['saves_per_second']} saves/s, median {d['median_ms']} ms, p95 {d['p95_ms']} ms, "
        f"max {d['max_ms']} ms, 409s {d['conflicts_409']}, lost {d['lost']}; one editor "
        f"alone: median {d['solo_editor']['median_ms']} ms\n"
        f"autosave, 2 editors on one question: {s['saves_ok']} ok, {s['conflicts_409']} "
        f"409s, silent overwrites {s['silent_overwrites']}\n"
        f"reminders, {r['organisations']} organisations ({r['submitted']} submitted): "
        f"{r['invitation_jobs']} invitations in {r['publish_handler_seconds']} s; tick "
        f"{r['tick_jobs_created']} jobs in {r['tick_seconds']} s; idle tick "
        f"{r['idle_tick_jobs_created']} jobs in {r['idle_tick_seconds']} s\n"
        f"total {result['total_seconds']} s, written to {out}"
    )


if __name__ == "__main__":
    asyncio.run(main())
