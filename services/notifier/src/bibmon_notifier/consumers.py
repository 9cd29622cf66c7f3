"""Message handlers of the notifier: parse, then call services.py; no business logic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from bibmon_common.app import ServiceContext
from bibmon_common.contracts.identity import UserErased
from bibmon_common.contracts.notifier import SendEmail
from bibmon_common.events import CloudEvent, Message
from bibmon_common.messaging.consumer import Consumer
from bibmon_common.messaging.topology import COMMANDS_EXCHANGE, EVENTS_EXCHANGE
from bibmon_notifier import services
from bibmon_notifier.config import NotifierSettings

COMMANDS_QUEUE = "notifier.commands"
EVENTS_QUEUE = "notifier.events"


def on_send_email(settings: NotifierSettings) -> Any:
    """Handler for `notifier.send_email.v1`: record the job (idempotent on its key)."""

    async def handle(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        assert isinstance(message, SendEmail)
        await services.accept_send_email(conn, message, settings)

    return handle


async def on_user_erased(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
    """Handler for `identity.user.erased.v1`: forget the user's addresses and contexts."""
    assert isinstance(message, UserErased)
    await services.erase_user(conn, message.user_id)


def build(ctx: ServiceContext, *, retry_delays: Sequence[float] = (5, 60, 600)) -> list[Any]:
    """The notifier's two consumers: its command queue and its events queue."""
    settings: NotifierSettings = ctx.settings
    return [
        Consumer(
            ctx.broker,
            ctx.pool,
            queue=COMMANDS_QUEUE,
            exchange=COMMANDS_EXCHANGE,
            handlers={SendEmail.type: on_send_email(settings)},
            retry_delays=retry_delays,
        ),
        Consumer(
            ctx.broker,
            ctx.pool,
            queue=EVENTS_QUEUE,
            exchange=EVENTS_EXCHANGE,
            handlers={UserErased.type: on_user_erased},
            retry_delays=retry_delays,
        ),
    ]
