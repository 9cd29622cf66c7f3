"""Two notifier processes' sender workers side by side on one database and one SMTP server."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from bibmon_common.db import create_pool
from bibmon_common.testing.smtp import SMTPCatcher
from bibmon_notifier.mail import SmtpSender
from bibmon_notifier.recipients import IdentityClient
from bibmon_notifier.rendering import Renderer
from bibmon_notifier.worker import SenderWorker

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_two_sender_replicas_send_every_email_exactly_once(
    fresh_smtp: SMTPCatcher, publish: Any, make_command: Any, jobs: Any, ctx: Any, settings: Any
) -> None:
    # A second replica: its own pool, renderer, SMTP and identity clients, its own loops.
    pool = await create_pool(settings.database_url, max_size=4)
    identity = IdentityClient(settings)
    other = SenderWorker(
        dataclasses.replace(
            ctx.deps,
            pool=pool,
            renderer=Renderer(support_address=settings.support_address),
            sender=SmtpSender(settings),
            recipients=identity,
        )
    )
    await other.start()
    try:
        commands = [make_command() for _ in range(20)]
        await asyncio.gather(*(publish(command) for command in commands))
        for command in commands:
            await jobs.wait_status(command.idempotency_key, "sent", within=30)
        await asyncio.sleep(0.5)  # a second copy, if any, would arrive now
    finally:
        await other.stop()
        await identity.close()
        await pool.close()
    for command in commands:
        assert len(fresh_smtp.messages_to(command.recipient_email)) == 1
        assert (await jobs.by_key(command.idempotency_key))["attempts"] == 1
