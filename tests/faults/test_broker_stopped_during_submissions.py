"""The broker stopped and started while libraries save and submit their responses.

`make test` submits 100 responses; `make fault-soak` the issue's 1,000
(BIBMON_FAULT_SUBMISSIONS). The private RabbitMQ node really stops (`stop_app`: every
connection closed, the port refuses) a little way into the load and starts again while
the load goes on.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest
from tests.faults.conftest import FaultPlatform, env_int, record_figures
from tests.faults.journey import (
    Ledger,
    fill_in,
    open_surveys,
    receipts,
    run_all,
    submissions_in_reporting,
    submitted_in_responses,
    unpublished,
    until,
)

SUBMISSIONS = env_int("BIBMON_FAULT_SUBMISSIONS", 100)
OUTAGE_SECONDS = 20

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240 + SUBMISSIONS // 2)]


@pytest.mark.asyncio(loop_scope="session")
async def test_broker_stopped_and_started_during_submissions_loses_and_repeats_nothing(
    platform: FaultPlatform,
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        surveys = await open_surveys(platform, client, SUBMISSIONS, label="broker")
        pids = platform.pids()
        ledger = Ledger()
        jobs = [
            (lambda s=s, o=o: fill_in(platform, client, s, o, ledger))
            for s in surveys
            for o in s.organisations
        ]
        started = time.monotonic()

        async def outage() -> None:
            # A little way into the load, then the broker is away for OUTAGE_SECONDS.
            await until(
                lambda: asyncio.sleep(0, len(ledger.submitted) >= SUBMISSIONS // 10),
                120,
                "the first tenth submitted",
            )
            await asyncio.to_thread(platform.rabbit.stop_app)
            await asyncio.sleep(OUTAGE_SECONDS)
            await asyncio.to_thread(platform.rabbit.start_app)

        await asyncio.gather(run_all(jobs, concurrency=16), outage())
        load_seconds = time.monotonic() - started

    print(f"\nrequests tried again: {dict(ledger.errors)} (last: {ledger.last_error})")
    expected = {(s.id, o) for s in surveys for o in s.organisations}
    # Every submission acknowledged: the broker outage never fails a library's request.
    assert ledger.submitted == expected, f"not acknowledged: {len(expected - ledger.submitted)}"
    assert await submitted_in_responses(platform, surveys) == expected

    async def every_receipt_and_report_update() -> bool:
        return (
            sum(receipts(platform, surveys).values()) >= SUBMISSIONS
            and sum((await submissions_in_reporting(platform, surveys)).values()) >= SUBMISSIONS
        )

    await until(every_receipt_and_report_update, 180, "every receipt and reporting update")
    assert await unpublished(platform, "responses") == 0
    await asyncio.sleep(3)  # a duplicate would arrive now
    sent = receipts(platform, surveys)
    # One receipt per submission: per survey, each organisation's contact once.
    assert sum(sent.values()) == SUBMISSIONS
    assert set(sent.values()) == {1}
    by_survey = {s.title: len(s.organisations) for s in surveys}
    assert {t: sum(1 for (title, _) in sent if title == t) for t in by_survey} == by_survey
    reported = await submissions_in_reporting(platform, surveys)
    assert set(reported) == expected
    assert set(reported.values()) == {1}
    # Nothing parked, and no service restarted itself during the outage.
    assert sum(platform.parked().values()) == 0
    assert platform.pids() == pids
    record_figures(
        "broker_stopped_during_submissions",
        {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "submissions": SUBMISSIONS,
            "concurrency": 16,
            "broker_stopped_seconds": OUTAGE_SECONDS,
            "load_seconds": round(load_seconds, 1),
            "requests_tried_again": dict(ledger.errors),
        },
    )
    print(
        f"\n{SUBMISSIONS} submissions in {load_seconds:.0f} s with the broker stopped for"
        f" {OUTAGE_SECONDS} s; retried requests: {dict(ledger.errors)}"
    )
