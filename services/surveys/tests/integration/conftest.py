"""The surveys service running for real: its own database and vhost, a test JWKS and clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest_asyncio
from aio_pika.abc import AbstractIncomingMessage

from bibmon_common.app import ServiceContext
from bibmon_common.clock import FrozenClock
from bibmon_common.contracts.identity import OrganisationRegistered
from bibmon_common.events import CloudEvent, parse_envelope, to_envelope
from bibmon_common.messaging.topology import EVENTS_EXCHANGE, declare_topology
from bibmon_common.projections import on_organisation_changed
from bibmon_common.testing.amqp import fresh_vhost
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.service import RunningService, running_service
from bibmon_common.testing.tokens import TestKeys
from bibmon_common.testing.wait import eventually
from bibmon_surveys.closer import SurveyCloser
from bibmon_surveys.config import SurveysSettings
from bibmon_surveys.deps import SurveysDeps
from bibmon_surveys.main import MIGRATIONS_DIR, create_app

API = "/api/surveys"
ISSUER = "bibmon-identity-test"
KID = "test-key"


class Keys(TestKeys):
    """Signs access tokens the way identity does; serves the JWKS."""

    def __init__(self) -> None:
        super().__init__("surveys", issuer=ISSUER, kid=KID)


wait_until = eventually  # tests import it from here


async def outbox_count(
    ctx: ServiceContext[SurveysDeps] | SurveysDeps, type_: str, survey_id: Any
) -> int:
    """How many outbox rows of one type are about one survey (relayed or not)."""
    async with ctx.pool.acquire() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE type = $1"
                " AND payload->'data'->>'survey_id' = $2",
                type_,
                str(survey_id),
            )
        )


class EventLog:
    """Every surveys.* event that reached the broker, read from a test queue."""

    def __init__(self) -> None:
        self.received: list[CloudEvent] = []

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        async with message.process():
            self.received.append(parse_envelope(message.body))

    def of(self, type_: str, survey_id: Any) -> list[dict[str, Any]]:
        """Payloads of one type about one survey, in arrival order."""
        return [
            e.data
            for e in self.received
            if e.type == type_ and e.data.get("survey_id") == str(survey_id)
        ]

    async def wait(
        self, type_: str, survey_id: Any, *, count: int = 1, within: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until at least `count` such events arrived; return them."""

        async def probe() -> list[dict[str, Any]] | None:
            found = self.of(type_, survey_id)
            return found if len(found) >= count else None

        return await wait_until(probe, within)  # type: ignore[no-any-return]


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def amqp_url() -> AsyncIterator[str]:
    async with fresh_vhost("bibmon_surveys_test") as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def events(amqp_url: str) -> AsyncIterator[EventLog]:
    """A queue bound to surveys.* on bibmon.events, as another service's consumer would be."""
    log = EventLog()
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    await declare_topology(channel)
    queue = await channel.declare_queue("surveys-test.events", exclusive=True)
    await queue.bind(EVENTS_EXCHANGE, routing_key="surveys.#")
    await queue.consume(log.on_message)
    yield log
    await connection.close()


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def keys() -> Keys:
    return Keys()


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def service(amqp_url: str, events: EventLog, keys: Keys) -> AsyncIterator[RunningService]:
    async with fresh_database("bibmon_surveys_test", migrations_dir=MIGRATIONS_DIR) as dsn:
        settings = SurveysSettings(
            environment="test",
            database_url=dsn,
            amqp_url=amqp_url,
            jwt_issuer=ISSUER,
            run_migrations_on_startup=False,
            close_poll_seconds=0.1,
            log_json=False,
            log_level="WARNING",
        )
        # One clock for the session, moved only by the tests that need time to pass.
        clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
        app = create_app(settings, jwks_provider=keys.provider, clock=clock)
        async with running_service(
            app, base_url="http://surveys.test", startup_timeout=30
        ) as running:
            yield running


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def ctx(service: RunningService) -> ServiceContext[SurveysDeps]:
    return service.ctx


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def deps(service: RunningService) -> SurveysDeps:
    surveys_deps: SurveysDeps = service.deps
    return surveys_deps


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def clock(deps: SurveysDeps) -> FrozenClock:
    assert isinstance(deps.clock, FrozenClock)
    return deps.clock


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def closer(deps: SurveysDeps) -> SurveyCloser:
    """A closer as the service runs one (its own loop runs too, every 0.1 s)."""
    return SurveyCloser(deps, poll_seconds=0.1)


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def api(service: RunningService) -> httpx.AsyncClient:
    return service.client


class Organisations:
    """Feeds the organisation read model through the kernel's projection handler."""

    def __init__(self, ctx: ServiceContext[SurveysDeps] | SurveysDeps) -> None:
        self.ctx = ctx  # anything with the service's pool

    async def register(self, province: str = "Utrecht", size_class: str = "medium") -> uuid.UUID:
        event = OrganisationRegistered(
            organisation_id=uuid.uuid4(),
            name=f"Bibliotheek {uuid.uuid4().hex[:8]}",
            province=province,
            municipalities=("Testgemeente",),
            inhabitants={"small": 20_000, "medium": 60_000, "large": 150_000}.get(
                size_class, 300_000
            ),
            size_class=size_class,
        )
        async with self.ctx.pool.acquire() as conn:
            await on_organisation_changed(None, conn, event, to_envelope(event, source="identity"))
        return event.organisation_id


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def organisations(ctx: ServiceContext[SurveysDeps]) -> Organisations:
    return Organisations(ctx)


QUESTIONNAIRE: dict[str, Any] = {
    "sections": [
        {
            "key": "collectie",
            "title": "Collectie",
            "questions": [
                {"key": "boeken", "type": "integer", "label": "Aantal boeken", "min": 0},
                {"key": "heeft_ebooks", "type": "yes_no", "label": "E-books?"},
                {
                    "key": "ebooks",
                    "type": "integer",
                    "label": "Aantal e-books",
                    "show_if": {"question": "heeft_ebooks", "equals": True},
                },
            ],
        }
    ]
}


class Surveys:
    """Small factory of survey bodies and API calls as a researcher."""

    def __init__(self, api: httpx.AsyncClient, keys: Keys, clock: FrozenClock) -> None:
        self.api = api
        self.keys = keys
        self.clock = clock
        self.researcher = keys.auth("researcher")

    def body(self, **overrides: Any) -> dict[str, Any]:
        now = self.clock.now()
        body: dict[str, Any] = {
            "title": "Jaarlijkse monitor",
            "description": "De cijfers over het afgelopen jaar.",
            "mandatory": True,
            "legal_basis": "wsob",
            "opens_at": (now + timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=30)).isoformat(),
            "series_key": "wsob-jaarlijks",
            "participants": {"mode": "all"},
            "questionnaire": QUESTIONNAIRE,
        }
        body.update(overrides)
        return body

    async def create(self, **overrides: Any) -> dict[str, Any]:
        response = await self.api.post(
            f"{API}/surveys", json=self.body(**overrides), headers=self.researcher
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    async def publish(self, survey_id: Any) -> dict[str, Any]:
        response = await self.api.post(
            f"{API}/surveys/{survey_id}/publish", headers=self.researcher
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def published(self, **overrides: Any) -> dict[str, Any]:
        return await self.publish((await self.create(**overrides))["id"])


@pytest_asyncio.fixture(loop_scope="session")
async def surveys(
    api: httpx.AsyncClient, keys: Keys, clock: FrozenClock, organisations: Organisations
) -> Surveys:
    await organisations.register()  # so {"mode": "all"} resolves to someone
    return Surveys(api, keys, clock)
