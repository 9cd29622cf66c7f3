"""The responses service running for real: its own database and vhost, tokens we sign.

Surveys arrive as the surveys service's events: through the broker where that is what a
test is about, otherwise by calling the consumer's handlers in a transaction (the same
code path, minus the wait).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import asyncpg
import httpx
import pytest_asyncio

from bibmon_common.clock import FrozenClock
from bibmon_common.contracts.surveys import (
    QuestionnairePublished,
    SurveyClosed,
    SurveyPublished,
)
from bibmon_common.events import EVENTS_EXCHANGE, Message, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.handlers import bind
from bibmon_common.questionnaire import Questionnaire
from bibmon_common.testing.amqp import fresh_vhost
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.service import RunningService, running_service
from bibmon_common.testing.tokens import TEST_ISSUER, TestKeys
from bibmon_responses import consumers
from bibmon_responses.config import ResponsesSettings
from bibmon_responses.deps import ResponsesDeps
from bibmon_responses.main import MIGRATIONS_DIR, create_app

API = "/api/responses"

QUESTIONNAIRE: dict[str, Any] = {
    "sections": [
        {
            "key": "collectie",
            "title": "Collectie en gebruik",
            "questions": [
                {"key": "leden", "type": "integer", "label": "Leden", "required": True, "min": 0},
                {
                    "key": "uitleningen",
                    "type": "integer",
                    "label": "Uitleningen",
                    "required": True,
                    "min": 0,
                },
                {"key": "budget", "type": "amount", "label": "Budget"},
                {
                    "key": "heeft_vestigingen",
                    "type": "yes_no",
                    "label": "Heeft u vestigingen?",
                    "required": True,
                },
                {
                    "key": "aantal_vestigingen",
                    "type": "integer",
                    "label": "Aantal vestigingen",
                    "required": True,
                    "min": 1,
                    "show_if": {"question": "heeft_vestigingen", "equals": True},
                },
                {
                    "key": "soort",
                    "type": "single_choice",
                    "label": "Soort",
                    "options": [
                        {"value": "klein", "label": "Klein"},
                        {"value": "groot", "label": "Groot"},
                    ],
                },
                {"key": "opmerking", "type": "long_text", "label": "Opmerking"},
            ],
        }
    ]
}

VALID_ANSWERS = {"leden": 1000, "uitleningen": 600, "heeft_vestigingen": False}


class Events:
    """A test queue bound to `bibmon.events` for everything the responses service emits."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            self.received.append(json.loads(message.body))

    async def wait_for(self, type_: str, within: float = 10.0, **data: Any) -> dict[str, Any]:
        """The `data` of the first event of `type_` whose fields match `data`."""
        deadline = time.monotonic() + within
        while True:
            for envelope in self.received:
                if envelope["type"] == type_ and all(
                    envelope["data"].get(k) == v for k, v in data.items()
                ):
                    return envelope["data"]  # type: ignore[no-any-return]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {type_} with {data} within {within} s")
            await asyncio.sleep(0.05)


class Org:
    """Staff of one library organisation, talking to the API with their own token."""

    def __init__(
        self, client: httpx.AsyncClient, keys: TestKeys, organisation_id: uuid.UUID
    ) -> None:
        self.client = client
        self.id = organisation_id
        self.headers = keys.auth("library_staff", organisation_id=organisation_id)

    async def get(self, survey_id: uuid.UUID) -> httpx.Response:
        return await self.client.get(f"{API}/surveys/{survey_id}/response", headers=self.headers)

    async def put(
        self, survey_id: uuid.UUID, answers: dict[str, Any], version: int
    ) -> httpx.Response:
        return await self.client.put(
            f"{API}/surveys/{survey_id}/response",
            headers=self.headers,
            json={"answers": answers, "version": version},
        )

    async def submit(
        self, survey_id: uuid.UUID, explanations: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            f"{API}/surveys/{survey_id}/response/submit",
            headers=self.headers,
            json={"explanations": explanations or {}},
        )

    async def answer_and_submit(
        self,
        survey_id: uuid.UUID,
        answers: dict[str, Any],
        explanations: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        current = (await self.get(survey_id)).json()
        saved = await self.put(survey_id, answers, current["version"])
        assert saved.status_code == 200, saved.text
        submitted = await self.submit(survey_id, explanations)
        assert submitted.status_code == 200, submitted.text
        return submitted.json()  # type: ignore[no-any-return]


class Reviewer:
    """A researcher (or kb_admin) reviewing responses."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def _url(self, survey_id: uuid.UUID, organisation_id: uuid.UUID, action: str = "") -> str:
        return f"{API}/surveys/{survey_id}/responses/{organisation_id}{action}"

    async def get(self, survey_id: uuid.UUID, organisation_id: uuid.UUID) -> httpx.Response:
        return await self.client.get(self._url(survey_id, organisation_id), headers=self.headers)

    async def history(self, survey_id: uuid.UUID, organisation_id: uuid.UUID) -> httpx.Response:
        return await self.client.get(
            self._url(survey_id, organisation_id, "/history"), headers=self.headers
        )

    async def act(
        self, survey_id: uuid.UUID, organisation_id: uuid.UUID, action: str, **body: Any
    ) -> httpx.Response:
        return await self.client.post(
            self._url(survey_id, organisation_id, f"/{action}"), headers=self.headers, json=body
        )

    async def progress(self, survey_id: uuid.UUID) -> httpx.Response:
        return await self.client.get(f"{API}/surveys/{survey_id}/progress", headers=self.headers)


async def publish_as_surveys(
    broker: Broker,
    message: Message,
    *,
    at: datetime | None = None,
    message_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Publish `message` on the broker as the surveys service's relay would; its id."""
    envelope = to_envelope(message, source="bibmon-surveys-test", id=message_id, time=at)
    await broker.publish(
        message.exchange,
        message.type,
        envelope.to_bytes(),
        message_id=str(envelope.id),
        headers={},
    )
    return envelope.id


class Surveys:
    """Plays the surveys service: its events, handled by the real consumer handlers."""

    def __init__(self, deps: ResponsesDeps, broker: Broker, clock: FrozenClock) -> None:
        self.deps = deps
        self.pool = deps.pool
        self.broker = broker
        self.clock = clock
        self.handlers = bind(deps, consumers.ROUTES)

    async def handle(self, message: Message, *, at: datetime | None = None) -> None:
        """Run the consumer's handler for `message` in a transaction, as the consumer does."""
        envelope = to_envelope(message, source="bibmon-surveys-test", time=at)
        async with self.deps.transaction() as conn:
            await self.handlers[message.type](conn, message, envelope)

    async def publish(
        self, message: Message, *, at: datetime | None = None, message_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        """Publish `message` on the broker as the surveys service's relay would."""
        return await publish_as_surveys(self.broker, message, at=at, message_id=message_id)

    def published(
        self,
        participants: list[uuid.UUID],
        *,
        opens_in: timedelta = timedelta(days=-1),
        closes_in: timedelta = timedelta(days=30),
        series_key: str | None = None,
        questionnaire: dict[str, Any] | None = None,
        survey_id: uuid.UUID | None = None,
    ) -> SurveyPublished:
        now = self.clock.now()
        return SurveyPublished(
            survey_id=survey_id or uuid.uuid4(),
            series_key=series_key,
            title="Bibliotheekmonitor 2026",
            mandatory=True,
            legal_basis="wsob",
            opens_at=now + opens_in,
            closes_at=now + closes_in,
            participants=tuple(participants),
            questionnaire_version=1,
            questionnaire=Questionnaire.model_validate(questionnaire or QUESTIONNAIRE),
        )

    async def create(self, participants: list[uuid.UUID], **kwargs: Any) -> uuid.UUID:
        """A published survey; returns its id."""
        message = self.published(participants, **kwargs)
        await self.handle(message)
        return message.survey_id

    async def new_version(
        self, survey_id: uuid.UUID, version: int, questionnaire: dict[str, Any]
    ) -> None:
        await self.handle(
            QuestionnairePublished(
                survey_id=survey_id,
                questionnaire_version=version,
                questionnaire=Questionnaire.model_validate(questionnaire),
            )
        )

    async def close(self, survey_id: uuid.UUID) -> None:
        await self.handle(
            SurveyClosed(survey_id=survey_id, closed_at=self.clock.now(), by_hand=True)
        )


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def keys() -> TestKeys:
    """Signs access tokens the way identity does; serves the JWKS."""
    return TestKeys("responses")


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def amqp_url() -> AsyncIterator[str]:
    async with fresh_vhost("bibmon_t_resp") as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def service(keys: TestKeys, amqp_url: str) -> AsyncIterator[RunningService]:
    async with fresh_database("bibmon_t_responses", migrations_dir=MIGRATIONS_DIR) as dsn:
        settings = ResponsesSettings(
            environment="test",
            database_url=dsn,
            amqp_url=amqp_url,
            jwt_issuer=TEST_ISSUER,
            run_migrations_on_startup=False,
            log_json=False,
            log_level="WARNING",
        )
        # One clock for the session, moved only by the tests that need time to pass.
        clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
        app = create_app(
            settings, jwks_provider=keys.provider, consumer_retry_delays=(0.5,), clock=clock
        )
        async with running_service(
            app, base_url="http://responses.test", startup_timeout=30
        ) as running:
            yield running


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def deps(service: RunningService) -> ResponsesDeps:
    responses_deps: ResponsesDeps = service.deps
    return responses_deps


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def session_clock(deps: ResponsesDeps) -> FrozenClock:
    assert isinstance(deps.clock, FrozenClock)
    return deps.clock


@pytest_asyncio.fixture(loop_scope="session")
async def clock(session_clock: FrozenClock) -> AsyncIterator[FrozenClock]:
    """The service's clock; every test starts at the same moment and may move it."""
    start = session_clock.now()
    yield session_clock
    session_clock.set(start)


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def client(service: RunningService) -> httpx.AsyncClient:
    return service.client


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def pool(deps: ResponsesDeps) -> asyncpg.Pool:
    return deps.pool


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def broker(amqp_url: str) -> AsyncIterator[Broker]:
    """Another service's connection: publishes surveys' events."""
    broker = Broker(amqp_url, "bibmon-responses-test-publisher")
    await broker.connect()
    yield broker
    await broker.close()


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def events(service: RunningService, amqp_url: str) -> AsyncIterator[Events]:
    """Everything the service publishes on `bibmon.events`, as received from the broker."""
    collected = Events()
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(EVENTS_EXCHANGE, routing_key="responses.#")
    await queue.consume(collected.on_message)
    yield collected
    await connection.close()


@pytest_asyncio.fixture(loop_scope="session")
async def surveys(deps: ResponsesDeps, broker: Broker, clock: FrozenClock) -> Surveys:
    return Surveys(deps, broker, clock)


@pytest_asyncio.fixture(loop_scope="session")
async def org(client: httpx.AsyncClient, keys: TestKeys) -> Callable[[], Org]:
    """Factory: staff of a new organisation."""
    return lambda: Org(client, keys, uuid.uuid4())


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def researcher(client: httpx.AsyncClient, keys: TestKeys) -> Reviewer:
    return Reviewer(client, keys.auth("researcher"))


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def kb_admin(client: httpx.AsyncClient, keys: TestKeys) -> Reviewer:
    return Reviewer(client, keys.auth("kb_admin"))
