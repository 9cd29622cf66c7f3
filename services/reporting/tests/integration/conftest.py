"""The reporting service running for real: its own database and vhost, tokens we sign.

Other services' facts arrive as their events, published through the broker.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest_asyncio
from fastapi import FastAPI

from bibmon_common.clock import SystemClock
from bibmon_common.contracts.identity import OrganisationRegistered
from bibmon_common.db import create_pool
from bibmon_common.events import CloudEvent, Message, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.testing.amqp import fresh_vhost
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.service import running_service
from bibmon_common.testing.tokens import TEST_ISSUER, TestKeys
from bibmon_common.testing.wait import eventually
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.main import create_app

API = "/api/reporting"


@dataclass
class Reporting:
    """A running reporting service and what a test needs to talk to it."""

    app: FastAPI
    client: httpx.AsyncClient
    broker: Broker
    keys: TestKeys
    dsn: str
    amqp: str
    pool: asyncpg.Pool

    async def publish(
        self, message: Message, *, time: datetime | None = None, id: uuid.UUID | None = None
    ) -> CloudEvent:
        """Publish an event as its producer's outbox relay would."""
        envelope = to_envelope(message, source="test", id=id, time=time or datetime.now(UTC))
        await self.broker.publish(
            message.exchange,
            message.type,
            envelope.to_bytes(),
            message_id=str(envelope.id),
            headers={},
        )
        return envelope

    async def republish(self, message: Message, envelope: CloudEvent) -> None:
        """Deliver the very same message again (same id): at-least-once delivery."""
        await self.broker.publish(
            message.exchange,
            message.type,
            envelope.to_bytes(),
            message_id=str(envelope.id),
            headers={},
        )

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Read reporting's database directly (assertions only)."""
        return list(await self.pool.fetch(sql, *args))

    async def settled(self, survey_id: uuid.UUID, within: float = 30.0) -> None:
        """Wait until the survey's figures reflect every change received so far."""

        async def probe() -> bool:
            rows = await self.fetch(
                "SELECT computed_seq >= change_seq AS ok FROM benchmark_state WHERE survey_id = $1",
                survey_id,
            )
            return bool(rows and rows[0]["ok"])

        await eventually(probe, within=within)

    async def closed(self, survey_id: uuid.UUID) -> None:
        """Wait until the survey's close has arrived and its figures are computed."""

        async def probe() -> bool:
            rows = await self.fetch("SELECT closed_at FROM survey WHERE id = $1", survey_id)
            return bool(rows and rows[0]["closed_at"] is not None)

        await eventually(probe, within=20)
        await self.settled(survey_id)

    async def register(self, organisations: list[dict[str, Any]]) -> None:
        """Identity's registration events for these organisations; wait until known."""
        for org in organisations:
            await self.publish(OrganisationRegistered(**org))
        ids = {org["organisation_id"] for org in organisations}

        async def known() -> bool:
            rows = await self.fetch("SELECT id FROM organisation WHERE id = ANY($1)", list(ids))
            return len(rows) == len(ids)

        await eventually(known, within=20)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def reporting() -> AsyncIterator[Reporting]:
    async with fresh_database("bibmon_t_rep") as dsn, fresh_vhost("bibmon_t_rep") as amqp:
        keys = TestKeys("reporting")
        settings = ReportingSettings(
            database_url=dsn,
            amqp_url=amqp,
            environment="test",
            jwt_issuer=TEST_ISSUER,
            benchmark_poll_seconds=0.1,
        )
        # Reporting's rules run on real time here (figures settle, datasets wait for quiet).
        app = create_app(
            settings,
            jwks_provider=keys.provider,
            consumer_retry_delays=(0.2, 0.5, 1, 2),
            clock=SystemClock(),
        )
        async with running_service(
            app, base_url="http://t", startup_timeout=60, shutdown_timeout=60
        ) as service:
            broker = Broker(amqp, connection_name="test-publisher")
            await broker.connect()
            pool = await create_pool(dsn, min_size=1, max_size=2)
            yield Reporting(app, service.client, broker, keys, dsn, amqp, pool)
            await pool.close()
            await broker.close()
