"""Identity's background work with several replicas side by side, on the real database."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bibmon_common.background import lock_key
from bibmon_identity.usecases import bootstrap

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_a_replica_skips_the_purge_while_another_is_purging_instead_of_waiting(svc):
    deps = svc.deps
    other_replica = await asyncpg.connect(deps.settings.database_url)
    try:
        async with other_replica.transaction():
            # The other replica is in the middle of its purge (it holds the job's lock).
            assert await other_replica.fetchval(
                "SELECT pg_try_advisory_xact_lock($1)", lock_key("identity.purge")
            )
            async with asyncio.timeout(5):
                assert await bootstrap.purge_once(deps) == {}
        counts = await bootstrap.purge_once(deps)
    finally:
        await other_replica.close()
    assert "audit_log" in counts
