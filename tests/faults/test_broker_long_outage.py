"""The broker down for a long time while libraries keep submitting: the outbox absorbs
it, its lag (the services' /metrics) rises with the outage and drains back to zero by
itself once the broker is back; every receipt arrives once; no service restarts.

`make test` keeps the broker down for 60 s; `make fault-soak` for the issue's ten
minutes (BIBMON_FAULT_OUTAGE_SECONDS=600) and writes the figures to bench/results/.
"""

from __future__ import annotations

import asyncio
import json
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
    submissions_in_reporting,
    until,
)

OUTAGE_SECONDS = env_int("BIBMON_FAULT_OUTAGE_SECONDS", 60)
# One submission every `OUTAGE_SECONDS / WRITES` seconds while the broker is away.
WRITES = min(OUTAGE_SECONDS, 240)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(OUTAGE_SECONDS + 420)]


def outbox_gauges(platform: FaultPlatform) -> tuple[float, float]:
    """responses' bibmon_outbox_lag_seconds and bibmon_outbox_unpublished_messages."""
    page = platform.metrics("responses")
    return page["bibmon_outbox_lag_seconds"], page["bibmon_outbox_unpublished_messages"]


@pytest.mark.asyncio(loop_scope="session")
async def test_broker_down_with_steady_writes_outbox_lag_rises_then_drains_to_zero(
    platform: FaultPlatform,
) -> None:
    samples: list[tuple[float, float, float]] = []  # (seconds since stop, lag, unpublished)
    async with httpx.AsyncClient(timeout=30) as client:
        surveys = await open_surveys(platform, client, WRITES, label="outage")
        pids = platform.pids()
        pairs = [(s, o) for s in surveys for o in s.organisations]
        ledger = Ledger()
        await asyncio.to_thread(platform.rabbit.stop_app)
        stopped = time.monotonic()

        async def sample() -> None:
            lag, unpublished = await asyncio.to_thread(outbox_gauges, platform)
            samples.append((time.monotonic() - stopped, lag, unpublished))

        async def writes() -> None:
            for n, (survey, organisation) in enumerate(pairs):
                await fill_in(platform, client, survey, organisation, ledger)
                delay = stopped + (n + 1) * OUTAGE_SECONDS / WRITES - time.monotonic()
                await asyncio.sleep(max(0.0, delay))

        async def sampler() -> None:
            while time.monotonic() - stopped < OUTAGE_SECONDS:
                await sample()
                await asyncio.sleep(5)

        await asyncio.gather(writes(), sampler())
        await sample()
        peak_lag, peak_unpublished = max(s[1] for s in samples), max(s[2] for s in samples)
        restarted = time.monotonic()
        await asyncio.to_thread(platform.rabbit.start_app)
        broker_up_seconds = time.monotonic() - restarted

        async def drained() -> bool:
            await sample()
            return samples[-1][1] == 0 and samples[-1][2] == 0

        await until(drained, 180, "the outbox drained after the broker came back")
        drain_seconds = time.monotonic() - restarted

    # Every write was accepted while the broker was away.
    assert len(ledger.submitted) == WRITES
    # The lag rose with the outage: the oldest waiting row is as old as most of it.
    assert peak_lag >= OUTAGE_SECONDS * 0.5, samples
    assert peak_unpublished >= WRITES * 0.9, samples

    async def all_delivered() -> bool:
        return (
            sum(receipts(platform, surveys).values()) >= WRITES
            and len(await submissions_in_reporting(platform, surveys)) >= WRITES
        )

    await until(all_delivered, 180, "every receipt and reporting update after the outage")
    await asyncio.sleep(2)
    sent = receipts(platform, surveys)
    assert sum(sent.values()) == WRITES
    assert set(sent.values()) == {1}
    assert platform.pids() == pids  # no service stopped itself (watchdog) while it waited
    assert sum(platform.parked().values()) == 0
    figures = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "outage_seconds": OUTAGE_SECONDS,
        "submissions_during_outage": WRITES,
        "peak_outbox_lag_seconds": peak_lag,
        "peak_unpublished_messages": peak_unpublished,
        "broker_start_seconds": round(broker_up_seconds, 1),
        "drained_to_zero_seconds_after_start_began": round(drain_seconds, 1),
        "samples": [[round(t, 1), lag, n] for t, lag, n in samples],
    }
    print("\n" + json.dumps({k: v for k, v in figures.items() if k != "samples"}))
    record_figures("broker_long_outage", figures)
