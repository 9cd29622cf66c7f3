"""Benchmark of reporting's live figures: from a submission to the computed figures.

A running reporting service (its own throw-away database and RabbitMQ vhost, the real
consumer and the real benchmark worker, default `BENCHMARK_POLL_SECONDS` 0.5) knows 200
organisations and an open survey with the demo questionnaire. Then all 200 organisations'
`responses.response.submitted.v1` (their demo answers) are published at once, as
responses' outbox relay would, and for each the time from its publish to the moment its
organisation is counted in the computed figures (its `benchmark_rank` row, written in the
transaction that also advances `benchmark_state`; what the benchmark endpoint reads) is
measured. The figures table is polled every 10 ms, so a latency may read up to 10 ms late.

Baseline in the same run: the same 200 event bodies published at once through the same
publisher to a bare queue on the same vhost and received by a bare aio-pika consumer
that only acks: the broker's own share of the latency; the ratio says what the consumer,
the read model and the recomputation add.

Each round uses a new survey (the first submissions of its organisations). Target (issue
8): p99 under 2 s with 200 organisations submitting at once. Writes
bench/results/<UTC date>-live-figures.json and prints a summary.
Usage: `uv run python bench/live_figures.py [--organisations 200] [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
from asgi_lifespan import LifespanManager

from bibmon_common.contracts.identity import OrganisationRegistered
from bibmon_common.contracts.responses import ResponseSubmitted
from bibmon_common.contracts.surveys import SurveyPublished
from bibmon_common.db import create_pool
from bibmon_common.events import Message, to_envelope
from bibmon_common.logging import configure_logging
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.topology import EVENTS_EXCHANGE
from bibmon_common.organisations import PROVINCES, SizeClass
from bibmon_common.testing.amqp import fresh_vhost
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.tokens import TEST_ISSUER, TestKeys
from bibmon_demo.data import DEMO_CLOSED_YEAR, DEMO_QUESTIONNAIRE, demo_answers
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.main import create_app

RESULTS = Path(__file__).resolve().parent / "results"
POLL = 0.01


def percentiles(xs: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in ms (nearest rank)."""
    s = sorted(xs)

    def rank(p: float) -> float:
        return s[max(0, math.ceil(p * len(s)) - 1)]

    return {
        "p50_ms": round(statistics.median(s) * 1000, 1),
        "p95_ms": round(rank(0.95) * 1000, 1),
        "p99_ms": round(rank(0.99) * 1000, 1),
        "max_ms": round(s[-1] * 1000, 1),
    }


async def publish(broker: Broker, message: Message) -> None:
    """Publish as a producer's outbox relay does (confirmed)."""
    envelope = to_envelope(message, source="bench", time=datetime.now(UTC))
    await broker.publish(
        message.exchange, message.type, envelope.to_bytes(), message_id=str(envelope.id), headers={}
    )


async def wait_for(probe: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not await probe():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.05)


async def live_round(broker: Broker, pool: Any, orgs: list[uuid.UUID]) -> list[float]:
    """One survey, every organisation submitting at once: publish → counted, per org."""
    survey_id = uuid.uuid4()
    now = datetime.now(UTC)
    await publish(
        broker,
        SurveyPublished(
            survey_id=survey_id,
            series_key="bench",
            title="Bench live",
            mandatory=True,
            legal_basis="wsob",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
            participants=tuple(orgs),
            questionnaire_version=1,
            questionnaire=DEMO_QUESTIONNAIRE,
        ),
    )

    async def survey_known() -> bool:
        return bool(await pool.fetchval("SELECT 1 FROM survey WHERE id = $1", survey_id))

    await wait_for(survey_known, 30)
    messages = {
        org: ResponseSubmitted(
            response_id=uuid.uuid4(),
            survey_id=survey_id,
            organisation_id=org,
            submission=1,
            submitted_at=datetime.now(UTC),
            questionnaire_version=1,
            answers=demo_answers(org, DEMO_CLOSED_YEAR),
        )
        for org in orgs
    }
    published: dict[uuid.UUID, float] = {}
    seen: dict[uuid.UUID, float] = {}
    done = asyncio.Event()

    async def watch() -> None:
        while len(seen) < len(orgs):
            rows = await pool.fetch(
                "SELECT organisation_id FROM benchmark_rank WHERE survey_id = $1", survey_id
            )
            at = time.perf_counter()
            for r in rows:
                seen.setdefault(r["organisation_id"], at)
            await asyncio.sleep(POLL)
        done.set()

    async def send(org: uuid.UUID) -> None:
        published[org] = time.perf_counter()
        await publish(broker, messages[org])

    watcher = asyncio.create_task(watch())
    await asyncio.gather(*(send(org) for org in orgs))
    await asyncio.wait_for(done.wait(), timeout=120)
    await watcher
    return [seen[org] - published[org] for org in orgs]


async def baseline_round(broker: Broker, amqp: str, orgs: list[uuid.UUID]) -> list[float]:
    """The same bodies through the same publisher to a bare queue with a bare consumer."""
    connection = await aio_pika.connect(amqp)
    received: dict[str, float] = {}
    done = asyncio.Event()
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue("bench.baseline", exclusive=True)
        exchange = EVENTS_EXCHANGE
        await queue.bind(exchange, routing_key="bench.baseline")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            received[str(message.message_id)] = time.perf_counter()
            await message.ack()
            if len(received) == len(orgs):
                done.set()

        await queue.consume(on_message)
        survey_id = uuid.uuid4()
        bodies = {
            org: to_envelope(
                ResponseSubmitted(
                    response_id=uuid.uuid4(),
                    survey_id=survey_id,
                    organisation_id=org,
                    submission=1,
                    submitted_at=datetime.now(UTC),
                    questionnaire_version=1,
                    answers=demo_answers(org, DEMO_CLOSED_YEAR),
                ),
                source="bench",
                time=datetime.now(UTC),
            )
            for org in orgs
        }
        published: dict[str, float] = {}

        async def send(org: uuid.UUID) -> None:
            envelope = bodies[org]
            published[str(envelope.id)] = time.perf_counter()
            await broker.publish(
                exchange,
                "bench.baseline",
                envelope.to_bytes(),
                message_id=str(envelope.id),
                headers={},
            )

        await asyncio.gather(*(send(org) for org in orgs))
        await asyncio.wait_for(done.wait(), timeout=60)
    finally:
        await connection.close()
    return [received[i] - published[i] for i in published]


async def run(organisations: int, rounds: int) -> dict[str, Any]:
    async with fresh_database("bibmon_bench_live") as dsn, fresh_vhost("bibmon_bench_live") as amqp:
        settings = ReportingSettings(
            database_url=dsn,
            amqp_url=amqp,
            environment="test",
            jwt_issuer=TEST_ISSUER,
            log_level="WARNING",
        )
        app = create_app(settings, jwks_provider=TestKeys("reporting").provider)
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
            for _ in range(400):  # the consumer declares its queue once connected
                if app.state.ctx.consumers_started:
                    break
                await asyncio.sleep(0.05)
            broker = Broker(amqp, connection_name="bench-publisher")
            await broker.connect()
            pool = await create_pool(dsn, min_size=1, max_size=2)
            try:
                sizes = list(SizeClass)
                orgs = [uuid.uuid4() for _ in range(organisations)]
                for n, org in enumerate(orgs):
                    await publish(
                        broker,
                        OrganisationRegistered(
                            organisation_id=org,
                            name=f"Bibliotheek {n:03d}",
                            province=PROVINCES[n % len(PROVINCES)],
                            municipalities=(f"Gemeente {n}",),
                            inhabitants=10_000 + 997 * n,
                            size_class=sizes[n % len(sizes)].value,
                        ),
                    )

                async def all_known() -> bool:
                    n = await pool.fetchval("SELECT count(*) FROM organisation")
                    return bool(n == organisations)

                await wait_for(all_known, 60)
                live: list[list[float]] = []
                base: list[list[float]] = []
                for _ in range(rounds):
                    base.append(await baseline_round(broker, amqp, orgs))
                    live.append(await live_round(broker, pool, orgs))
            finally:
                await pool.close()
                await broker.close()
    all_live = [x for r in live for x in r]
    all_base = [x for r in base for x in r]
    live_p, base_p = percentiles(all_live), percentiles(all_base)
    return {
        "organisations": organisations,
        "rounds": rounds,
        "questions": len(list(DEMO_QUESTIONNAIRE.questions())),
        "benchmark_poll_seconds": settings.benchmark_poll_seconds,
        "figures_poll_ms": POLL * 1000,
        "live_figures": live_p,
        "live_figures_per_round": [percentiles(r) for r in live],
        "baseline_broker_only": base_p,
        "baseline_per_round": [percentiles(r) for r in base],
        "ratio_p99_to_baseline": round(live_p["p99_ms"] / base_p["p99_ms"], 1),
        "target_p99_ms": 2000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    configure_logging("bench", "WARNING", False)
    result = await run(args.organisations, args.rounds)
    lf, bl = result["live_figures"], result["baseline_broker_only"]
    print(
        f"{args.organisations} organisations submitting at once × {args.rounds} rounds:"
        f" publish → counted in the figures p50 {lf['p50_ms']} ms, p95 {lf['p95_ms']} ms,"
        f" p99 {lf['p99_ms']} ms (target < 2000 ms); broker-only baseline p99"
        f" {bl['p99_ms']} ms, ratio {result['ratio_p99_to_baseline']}×"
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC).date().isoformat()}-live-figures.json"
    out.write_text(
        json.dumps(
            {
                "benchmark": "live-figures",
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "results": result,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    asyncio.run(main())
