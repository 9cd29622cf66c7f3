"""The sender survives its database connections being closed under it (a PostgreSQL
restart): found by the fault suite (tests/faults/test_postgres_restart.py), where every
sender loop ended silently and no e-mail left the notifier until it was restarted."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
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
    running = [t for t in asyncio.all_tasks() if t.get_name().startswith("notifier-sender-")]
    assert len(running) == ctx.settings.sender_concurrency  # finished tasks are not listed

    command = make_command()
    await publish(command)
    await fresh_smtp.wait_for(to(command.recipient_email), timeout=10)


async def test_an_email_the_relay_took_is_sent_once_when_the_database_drops_meanwhile(
    fresh_smtp: SMTPCatcher,
    publish: Any,
    make_command: Any,
    jobs: Any,
    database_dsn: str,
) -> None:
    """PostgreSQL restarting while the relay takes a message must not send it twice.

    Found by the fault suite (a receipt e-mail arrived twice after a restart): the
    outcome was written in the transaction that had claimed the e-mail, the restart broke
    that transaction, and the e-mail was due again.
    """

    async def restart_like() -> None:
        conn = await asyncpg.connect(database_dsn)
        try:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()

    fresh_smtp.while_receiving(restart_like)
    command = make_command()
    await publish(command)
    job = await jobs.wait_status(command.idempotency_key, "sent", within=20)
    assert job["attempts"] == 1
    await asyncio.sleep(1.5)  # a second copy would be on its way by now (poll 0.1 s)
    assert len(fresh_smtp.messages_to(command.recipient_email)) == 1
    sent = [
        e for e in await jobs.events("notifier.email.sent.v1") if e["email_id"] == str(job["id"])
    ]
    assert len(sent) == 1


async def test_an_outcome_interrupted_by_a_server_shutdown_is_written_again_not_resent(
    fresh_smtp: SMTPCatcher,
    publish: Any,
    make_command: Any,
    jobs: Any,
    database_dsn: str,
) -> None:
    """A backend ended while the outcome's statement runs (a fast shutdown) is retried.

    The server answers the waiting statement with AdminShutdownError (57P01) and closes
    the connection; leaving the transaction then raises asyncpg's InterfaceError. Both are
    retried: an outcome given up would leave the e-mail leased, to be sent again when the
    lease ended.
    """
    command = make_command()
    done: list[str] = []

    async def lock_then_end_the_waiter() -> None:
        # Runs on the SMTP server's loop: hold the row so the outcome's statement waits on
        # it, end that backend as a shutdown would, then let go.
        locker = await asyncpg.connect(database_dsn)
        try:
            transaction = locker.transaction()
            await transaction.start()
            await locker.execute(
                "SELECT 1 FROM email_job WHERE idempotency_key = $1 FOR UPDATE",
                command.idempotency_key,
            )

            async def end_waiter() -> None:
                try:
                    for _ in range(200):
                        ended = await locker.fetchval(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                        )
                        if ended:
                            done.append("ended")
                            break
                        await asyncio.sleep(0.05)
                finally:
                    await transaction.rollback()
                    await locker.close()

            asyncio.get_running_loop().create_task(end_waiter())
        except BaseException:
            await locker.close()
            raise

    fresh_smtp.while_receiving(lock_then_end_the_waiter)
    await publish(command)
    job = await jobs.wait_status(command.idempotency_key, "sent", within=20)
    assert done == ["ended"]  # the outcome's statement really was cut off
    assert job["attempts"] == 1
    await asyncio.sleep(1.0)
    assert len(fresh_smtp.messages_to(command.recipient_email)) == 1
