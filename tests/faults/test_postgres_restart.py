"""PostgreSQL crashed and restarted under load: the services report not ready, recover
by themselves (the same processes) and nothing the platform acknowledged is lost.

Both private clusters stop with `pg_ctl -m immediate` (a crash: no checkpoint, the WAL is
replayed at the next start) while libraries save and submit.
"""

from __future__ import annotations

import asyncio
import json
from uuid import UUID

import httpx
import pytest
from tests.faults.conftest import SERVICES, FaultPlatform
from tests.faults.harness import fetch
from tests.faults.journey import (
    Ledger,
    fill_in,
    open_surveys,
    receipts,
    run_all,
    submissions_in_reporting,
    submitted_in_responses,
    until,
)

ORGANISATIONS = 40
DOWN_SECONDS = 8

pytestmark = [pytest.mark.faults, pytest.mark.timeout(420)]


@pytest.mark.asyncio(loop_scope="session")
async def test_postgresql_restarted_under_load_services_unready_then_recover_losing_nothing(
    platform: FaultPlatform,
) -> None:
    async with httpx.AsyncClient(timeout=15) as client:
        surveys = await open_surveys(platform, client, ORGANISATIONS, label="postgres")
        pids = platform.pids()
        ledger = Ledger()
        jobs = [
            (lambda s=s, o=o: fill_in(platform, client, s, o, ledger, saves=3, attempts=240))
            for s in surveys
            for o in s.organisations
        ]
        seen: dict[str, set[int]] = {svc: set() for svc in SERVICES}

        async def crash_and_restart() -> None:
            await until(
                lambda: asyncio.sleep(0, len(ledger.saved) >= ORGANISATIONS // 4),
                120,
                "a quarter of the organisations saving",
            )
            await asyncio.gather(
                asyncio.to_thread(platform.pg_main.stop, "immediate"),
                asyncio.to_thread(platform.pg_responses.stop, "immediate"),
            )

            async def every_service_unready() -> bool:
                for svc in SERVICES:
                    seen[svc].add(await asyncio.to_thread(platform.ready, svc))
                return all(any(s != 200 for s in statuses) for statuses in seen.values())

            await until(every_service_unready, 60, f"every service unready ({seen})")
            await asyncio.sleep(DOWN_SECONDS)
            await asyncio.gather(
                asyncio.to_thread(platform.pg_main.start),
                asyncio.to_thread(platform.pg_responses.start),
            )

        await asyncio.gather(run_all(jobs, concurrency=8), crash_and_restart())

        async def all_ready() -> bool:
            return await asyncio.to_thread(platform.all_ready)

        await until(all_ready, 120, "every service ready again")
    print(f"\nreadiness seen while PostgreSQL was down: {seen}; retried: {dict(ledger.errors)}")
    # They recovered by themselves: no process was restarted.
    assert platform.pids() == pids
    assert all(503 in statuses for statuses in seen.values()), seen

    expected = {(s.id, o) for s in surveys for o in s.organisations}
    assert ledger.submitted == expected
    assert await submitted_in_responses(platform, surveys) == expected
    # Every acknowledged save is what is stored (each organisation's last value, 3).
    rows = await fetch(
        platform.dsn("responses"),
        "SELECT r.survey_id, r.organisation_id, a.value::text AS value FROM response r"
        " JOIN response_answer a ON a.response_id = r.id"
        " WHERE a.question = 'visitors' AND r.survey_id = ANY($1::uuid[])",
        [UUID(s.id) for s in surveys],
    )
    stored = {(str(r["survey_id"]), r["organisation_id"]): json.loads(r["value"]) for r in rows}
    assert stored == ledger.saved

    # Every acknowledged submission reaches the notifier and reporting, once.
    async def everything_delivered() -> bool:
        return (
            sum(receipts(platform, surveys).values()) >= ORGANISATIONS
            and len(await submissions_in_reporting(platform, surveys)) >= ORGANISATIONS
        )

    await until(everything_delivered, 120, "every receipt and reporting update")
    await asyncio.sleep(2)
    assert set(receipts(platform, surveys).values()) == {1}
    assert sum(receipts(platform, surveys).values()) == ORGANISATIONS
    assert set(await submissions_in_reporting(platform, surveys)) == expected
    assert sum(platform.parked().values()) == 0
