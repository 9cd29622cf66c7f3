"""Draft save throughput: 50 editors autosaving, the platform side by side with a raw baseline.

Each editor autosaves its own organisation's response of the demo survey
(`bibmon_demo.data`), one HTTP connection per editor, as fast as the server answers:
`PUT /api/responses/surveys/{id}/response` with one changed answer and the version of its
own previous save. The previous survey of the series is submitted by every organisation,
so each save and read also looks up last year's answers and national range.

In the same run, with the same load generator and the same database server:
- raw: a bare FastAPI + asyncpg endpoint doing one optimistic `UPDATE … WHERE version = $n`
  (bench/save_path_raw.py), one uvicorn worker;
- platform: the responses service (`uvicorn bibmon_responses.main:app`), one worker, at
  123 and at 10,000 organisations; with 2 workers; and through the gateway (nginx from
  deploy/nginx, rendered as `make run` does) in front of one worker.

Load: `wrk` with bench/save_path.lua (one thread per connection, so each editor keeps its
own version) when installed (`apt-get install wrk`), otherwise an asyncio load generator
on httpx (which costs more CPU on the same machine: the figures say which was used).
Background workers (outbox relay, consumers) are off: a draft save writes no event.
Tracing is on as in production (spans created), with no exporter configured.

Writes bench/results/<UTC date>-save-path.json and prints a summary; not asserted anywhere.
Usage: `make bench` or `uv run python bench/save_path.py [--seconds 10 --editors 50]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bibmon_common.db import create_pool
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.tokens import TestKeys
from bibmon_demo.data import (
    DEMO_CLOSED_SURVEY_ID,
    DEMO_OPEN_SURVEY_ID,
    DEMO_QUESTIONNAIRE,
    DEMO_SERIES_KEY,
    demo_answers,
)
from bibmon_responses import repository as repo
from bibmon_responses.main import MIGRATIONS_DIR

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://bibliotheekmonitor.nl/bench/save-path")
QUESTION = "activities"


def organisation_ids(count: int) -> list[uuid.UUID]:
    return [uuid.uuid5(NAMESPACE, f"organisation/{i}") for i in range(count)]


async def seed(dsn: str, organisations: int, editors: int) -> list[uuid.UUID]:
    """Both demo surveys with `organisations` participants; every one submitted last year."""
    orgs = organisation_ids(organisations)
    now = datetime.now(UTC)
    questionnaire = DEMO_QUESTIONNAIRE.model_dump(mode="json")
    pool = await create_pool(dsn, max_size=2)
    async with pool.acquire() as conn, conn.transaction():
        for survey_id, opens_at in (
            (DEMO_CLOSED_SURVEY_ID, now - timedelta(days=400)),
            (DEMO_OPEN_SURVEY_ID, now - timedelta(days=10)),
        ):
            await repo.upsert_survey(
                conn,
                survey_id=survey_id,
                series_key=DEMO_SERIES_KEY,
                opens_at=opens_at,
                closes_at=opens_at + timedelta(days=60),
                participants=orgs,
                source_time=now,
            )
            await repo.insert_questionnaire_version(conn, survey_id, 1, questionnaire)
        await repo.mark_survey_closed(conn, DEMO_CLOSED_SURVEY_ID, now - timedelta(days=340))
        responses = [(uuid.uuid5(NAMESPACE, f"response/{org}"), org) for org in orgs]
        at = now - timedelta(days=350)
        await conn.copy_records_to_table(
            "response",
            columns=[
                "id",
                "survey_id",
                "organisation_id",
                "status",
                "revision",
                "questionnaire_version",
                "submission",
                "submitted_at",
                "created_at",
                "updated_at",
            ],
            records=[
                (rid, DEMO_CLOSED_SURVEY_ID, org, "accepted", 1, 1, 1, at, at, at)
                for rid, org in responses
            ],
        )
        await conn.executemany(
            "INSERT INTO response_submission (response_id, submission, questionnaire_version,"
            " answers, submitted_at, review, reviewed_at)"
            " VALUES ($1, 1, 1, $2, $3, 'accepted', $3)",
            [(rid, demo_answers(org, 2025), at) for rid, org in responses],
        )
        await conn.execute(
            "CREATE TABLE raw_response (survey_id uuid NOT NULL, organisation_id uuid NOT NULL,"
            " version integer NOT NULL DEFAULT 0, answers jsonb NOT NULL DEFAULT '{}'::jsonb,"
            " updated_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (survey_id, organisation_id))"
        )
        await conn.executemany(
            "INSERT INTO raw_response (survey_id, organisation_id, answers) VALUES ($1, $2, $3)",
            [(DEMO_OPEN_SURVEY_ID, org, demo_answers(org, 2026)) for org in orgs[:editors]],
        )
    async with pool.acquire() as conn:
        await conn.execute("VACUUM ANALYZE")
    await pool.close()
    return orgs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(
    url: str, timeout: float = 240.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the server stopped (exit {proc.returncode})")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def serve(
    name: str, args: list[str], env: dict[str, str], ready: str, log_dir: Path
) -> Iterator[subprocess.Popen[bytes]]:
    log = (log_dir / f"{name}.log").open("wb")
    proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(ready, proc=proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def uvicorn(app: str, port: int, workers: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        # uvicorn restarts a worker that does not answer its supervisor within 5 s; on a
        # machine this busy a starting worker may not, and would be restarted forever.
        "--timeout-worker-healthcheck",
        "60",
        "--no-access-log",
        "--log-level",
        os.environ.get("BENCH_UVICORN_LOG", "warning"),
        *extra,
    ]


def responses_env(dsn: str, jwks_file: Path, issuer: str) -> dict[str, str]:
    return {
        "BIBMON_RESPONSES_DATABASE_URL": dsn,
        "BIBMON_RESPONSES_JWKS_URL": jwks_file.as_uri(),
        "BIBMON_RESPONSES_JWT_ISSUER": issuer,
        "BIBMON_RESPONSES_RUN_MIGRATIONS_ON_STARTUP": "false",
        "BIBMON_RESPONSES_START_BACKGROUND_WORKERS": "false",
        "BIBMON_RESPONSES_LOAD_DEMO_DATA": "false",
        "BIBMON_RESPONSES_LOG_LEVEL": "INFO",
    }


@contextlib.contextmanager
def gateway(upstream_port: int, work: Path, limits: dict[str, str]) -> Iterator[int]:
    """nginx from deploy/nginx in front of `upstream_port` (every upstream points there)."""
    sys.path.insert(0, str(ROOT / "deploy/nginx"))
    import render  # deploy/nginx/render.py, as scripts/devstack.py uses it

    port = free_port()
    ngx = work / f"nginx-{port}"
    for sub in ("log", "tmp"):
        (ngx / sub).mkdir(parents=True, exist_ok=True)
    upstream = f"127.0.0.1:{upstream_port}"
    server_conf = ngx / "bibmon.conf"
    server_conf.write_text(
        render.render(
            (ROOT / "deploy/nginx/templates/bibmon.conf.template").read_text(),
            {
                "GATEWAY_PORT": str(port),
                "TRUSTED_PROXY_CIDR": "127.0.0.1/32",
                **{
                    f"{s}_UPSTREAM": upstream
                    for s in ("IDENTITY", "SURVEYS", "RESPONSES", "REPORTING", "NOTIFIER", "WEB")
                },
                **render.LIMIT_DEFAULTS,
                **limits,
            },
        )
    )
    main_conf = ngx / "nginx.conf"
    main_conf.write_text(
        render.render(
            (ROOT / "deploy/nginx/nginx-dev.conf.template").read_text(),
            {
                "VAR_DIR": str(ngx),
                "SERVER_CONF": str(server_conf),
                "MIME_TYPES": "/etc/nginx/mime.types",
            },
        )
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with serve(
        "gateway",
        [nginx, "-e", "stderr", "-c", str(main_conf), "-p", str(ngx)],
        {},
        f"http://127.0.0.1:{port}/gateway/health",
        work,
    ):
        yield port


async def versions(
    dsn: str, orgs: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, int]]:
    """Each editor's current version: (platform response revision, raw version)."""
    conn = await asyncpg.connect(dsn)
    try:
        platform_rows = await conn.fetch(
            "SELECT organisation_id, revision FROM response WHERE survey_id = $1",
            DEMO_OPEN_SURVEY_ID,
        )
        raw_rows = await conn.fetch(
            "SELECT organisation_id, version FROM raw_response WHERE survey_id = $1",
            DEMO_OPEN_SURVEY_ID,
        )
    finally:
        await conn.close()
    return (
        {r["organisation_id"]: r["revision"] for r in platform_rows},
        {r["organisation_id"]: r["version"] for r in raw_rows},
    )


def editors_file(path: Path, lines: list[tuple[str, str, int]]) -> Path:
    path.write_text("".join(f"{p} {t} {v}\n" for p, t, v in lines))
    return path


def run_wrk(base: str, file: Path, editors: int, seconds: float) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    assert wrk is not None
    out = subprocess.run(
        [
            wrk,
            f"-t{editors}",
            f"-c{editors}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(BENCH / "save_path.lua"),
            base,
            "--",
            str(file),
            QUESTION,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    raw = json.loads(line)
    duration = raw["duration_us"] / 1e6
    return {
        "load_generator": "wrk",
        "seconds": round(duration, 2),
        "saves_per_second": round(raw["saves"] / duration, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "saves": raw["saves"],
        "conflicts": raw["conflicts"],
        "other_failures": raw["failures"] + raw["socket_errors"],
    }


async def run_python(base: str, file: Path, editors: int, seconds: float) -> dict[str, Any]:
    """The fallback load generator: one httpx connection per editor, saves back to back."""
    text = await asyncio.to_thread(file.read_text)
    lines = [ln.split(" ") for ln in text.splitlines()]
    latencies: list[float] = []
    counts = {"saves": 0, "conflicts": 0, "other_failures": 0}
    stop = time.perf_counter() + seconds

    async def editor(n: int, path: str, token: str, version: int) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        value = 100 + (n + 1) * 1000
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
            while time.perf_counter() < stop:
                value += 1
                t0 = time.perf_counter()
                r = await client.put(
                    path, json={"answers": {QUESTION: value}, "version": version}, timeout=10
                )
                latencies.append(time.perf_counter() - t0)
                if r.status_code in (200, 409):
                    version = r.json().get("version", version)
                key = {200: "saves", 409: "conflicts"}.get(r.status_code, "other_failures")
                counts[key] += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(editor(n, p, t, int(v)) for n, (p, t, v) in enumerate(lines)))
    duration = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return {
        "load_generator": "python-httpx",
        "seconds": round(duration, 2),
        "saves_per_second": round(counts["saves"] / duration, 1),
        "p50_ms": round(q[49] * 1000, 1),
        "p95_ms": round(q[94] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        **counts,
    }


async def load(base: str, file: Path, editors: int, seconds: float) -> dict[str, Any]:
    if shutil.which("wrk"):
        result = await asyncio.to_thread(run_wrk, base, file, editors, seconds)
    else:
        result = await run_python(base, file, editors, seconds)
    # wrk stops with requests in flight: let them land before the next run reads versions.
    await asyncio.sleep(1.0)
    return result


class Scenario:
    """One database of a size; serves raw or platform targets and measures them."""

    def __init__(self, dsn: str, orgs: list[uuid.UUID], editors: int, work: Path) -> None:
        self.dsn, self.orgs, self.editors, self.work = dsn, orgs, editors, work
        self.keys = TestKeys("responses")
        self.jwks = work / "jwks.json"
        self.jwks.write_text(json.dumps(self.keys.jwks))
        self.tokens = {
            org: self.keys.token("library_staff", organisation_id=org, lifetime=3600)
            for org in orgs[:editors]
        }

    async def files(self, name: str) -> tuple[Path, Path]:
        mine, raw = await versions(self.dsn, self.orgs[: self.editors])
        survey = DEMO_OPEN_SURVEY_ID
        platform_lines = [
            (f"/api/responses/surveys/{survey}/response", self.tokens[org], mine.get(org, 0))
            for org in self.orgs[: self.editors]
        ]
        raw_lines = [
            (f"/raw/surveys/{survey}/response/{org}", "", raw[org])
            for org in self.orgs[: self.editors]
        ]
        return (
            editors_file(self.work / f"{name}-platform.txt", platform_lines),
            editors_file(self.work / f"{name}-raw.txt", raw_lines),
        )

    async def measure(
        self, base: str, which: str, seconds: float, warmup: float = 0.0
    ) -> dict[str, Any]:
        if warmup:
            platform_file, raw_file = await self.files("warmup")
            await load(
                base, platform_file if which == "platform" else raw_file, self.editors, warmup
            )
        platform_file, raw_file = await self.files("run")
        return await load(
            base, platform_file if which == "platform" else raw_file, self.editors, seconds
        )

    @contextlib.contextmanager
    def raw_server(self) -> Iterator[str]:
        port = free_port()
        with serve(
            "raw",
            uvicorn("save_path_raw:app", port, 1, "--app-dir", str(BENCH)),
            {"BIBMON_BENCH_RAW_DSN": self.dsn},
            f"http://127.0.0.1:{port}/docs",
            self.work,
        ):
            yield f"http://127.0.0.1:{port}"

    @contextlib.contextmanager
    def platform_server(self, workers: int) -> Iterator[tuple[str, int]]:
        port = free_port()
        with serve(
            f"responses-{workers}w",
            uvicorn("bibmon_responses.main:app", port, workers),
            responses_env(self.dsn, self.jwks, self.keys.issuer),
            f"http://127.0.0.1:{port}/health/ready",
            self.work,
        ):
            yield f"http://127.0.0.1:{port}", port


@contextlib.asynccontextmanager
async def database(organisations: int, editors: int) -> AsyncIterator[tuple[str, list[uuid.UUID]]]:
    async with fresh_database("bibmon_bench_save", migrations_dir=MIGRATIONS_DIR) as dsn:
        t0 = time.perf_counter()
        orgs = await seed(dsn, organisations, editors)
        print(
            f"seeded {organisations} organisations in {time.perf_counter() - t0:.1f} s", flush=True
        )
        yield dsn, orgs


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds of one target (each round is kept too)."""
    keys = ("saves_per_second", "p50_ms", "p95_ms", "p99_ms", "max_ms")
    summary: dict[str, Any] = {k: round(statistics.median(r[k] for r in rounds), 1) for k in keys}
    for k in ("saves", "conflicts", "other_failures"):
        summary[k] = sum(r[k] for r in rounds)
    summary["load_generator"] = rounds[0]["load_generator"]
    summary["rounds"] = rounds
    return summary


async def main() -> None:
    """Measure every target, write the result file and print a summary."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--editors", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2, help="alternating raw/platform runs")
    parser.add_argument("--sizes", type=int, nargs="+", default=[123, 10_000])
    parser.add_argument("--no-gateway", action="store_true")
    parser.add_argument("--no-workers", action="store_true", help="skip the 2-worker run")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []

    def report(
        label: str, organisations: int, workers: int, result: dict[str, Any], raw: float | None
    ) -> None:
        entry = {"target": label, "organisations": organisations, "workers": workers, **result}
        if raw:
            entry["ratio_to_raw"] = round(result["saves_per_second"] / raw, 3)
        runs.append(entry)
        print(
            f"{label:<22} orgs={organisations:<6} workers={workers} "
            f"{result['saves_per_second']:>7.1f} saves/s  p50 {result['p50_ms']:>6.1f}  "
            f"p95 {result['p95_ms']:>6.1f}  p99 {result['p99_ms']:>6.1f} ms  "
            f"conflicts {result['conflicts']} failures {result['other_failures']}"
            + (f"  ratio {entry['ratio_to_raw']}" if raw else ""),
            flush=True,
        )

    with tempfile.TemporaryDirectory(prefix="bibmon-save-path-") as tmp:
        work = Path(tmp)
        for size in args.sizes:
            first = size == args.sizes[0]
            async with database(size, args.editors) as (dsn, orgs):
                sc = Scenario(dsn, orgs, args.editors, work)
                with sc.raw_server() as raw_base, sc.platform_server(1) as (base, port):
                    await sc.measure(raw_base, "raw", args.warmup)
                    await sc.measure(base, "platform", args.warmup)
                    raw_rounds, platform_rounds = [], []
                    for _ in range(args.rounds):  # alternate, so both see the same machine
                        raw_rounds.append(await sc.measure(raw_base, "raw", args.seconds))
                        platform_rounds.append(await sc.measure(base, "platform", args.seconds))
                    raw = summarise(raw_rounds)
                    report("raw (FastAPI+asyncpg)", size, 1, raw, None)
                    raw_rate = raw["saves_per_second"]
                    report("responses", size, 1, summarise(platform_rounds), raw_rate)
                    if first and not args.no_gateway:
                        # A load test, not an office: the limits are lifted for it
                        # (tests/e2e/test_gateway_limits.py checks the real ones).
                        limits = {"API_RATE_LIMIT": "100000r/s", "API_BURST": "100000"}
                        with gateway(port, work, limits) as gw:
                            gw_base = f"http://127.0.0.1:{gw}"
                            await sc.measure(gw_base, "platform", args.warmup)
                            through = [
                                await sc.measure(gw_base, "platform", args.seconds)
                                for _ in range(args.rounds)
                            ]
                        report(
                            "gateway -> responses",
                            size,
                            1,
                            {**summarise(through), "gateway_limits": limits},
                            raw_rate,
                        )
                if first and not args.no_workers:
                    with sc.platform_server(2) as (base, _):
                        await sc.measure(base, "platform", args.warmup)
                        two = [
                            await sc.measure(base, "platform", args.seconds)
                            for _ in range(args.rounds)
                        ]
                    report("responses", size, 2, summarise(two), raw_rate)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_end": os.getloadavg(),
            "note": "the load generator, PostgreSQL and the servers share these cores; "
            "absolute figures follow how busy the machine is (load average above); raw and "
            "platform alternate within a run, so the ratio is the figure to compare",
        },
        "editors": args.editors,
        "seconds_per_run": args.seconds,
        "rounds": args.rounds,
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-save-path.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    asyncio.run(main())
