"""The sender survives its database connections being closed under it (a PostgreSQL
restart): found by the fault suite (tests/faults/test_postgres_restart.py), where every
sender loop ended silently and no e-mail left the notifier until it was restarted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bibmon_common.testing.smtp import SMTPCatcher
from bibmon_notifier.repository import NOTIFY_CHANNEL

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def to(address: str) -> Any:
    return lambda m: m["To"].addresses[0].addr_spec == address


async def test_sender_keeps_sending_after_the_server_closed_its_listening_connection(
    fresh_smtp: SMTPCatcher, publish: Any, make_command: Any, pool: Any, ctx: Any
) -> None:
    async with pool.acquire() as conn:
        ended = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query = $1",
            f'LISTEN "{NOTIFY_CHANNEL}"',
        )
    assert ended == 1  # what a restart does to every connection, here to the listener only
    await asyncio.sleep(1.0)  # the sender loops notice it (poll interval 0.1 s)
    assert all(not task.done() for task in ctx.extras["sender"]._tasks)

    command = make_command()
    await publish(command)
    await fresh_smtp.wait_for(to(command.recipient_email), timeout=10)
