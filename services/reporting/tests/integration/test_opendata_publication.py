"""Open data end to end: closing a survey publishes its dataset and one export event.

Reporting runs for real (its own database and vhost); surveys', responses' and
identity's facts arrive as their events; a KB system's queue is bound to bibmon.exports
before reporting starts, as a KB system's would be.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import importlib.util
import io
import json
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from bibmon_common.clock import SystemClock
from bibmon_common.contracts.identity import OrganisationRegistered, OrganisationUpdated
from bibmon_common.contracts.reporting import DatasetPublished
from bibmon_common.contracts.responses import ResponseSubmitted, SubmissionReplayed
from bibmon_common.contracts.surveys import (
    QuestionnaireVersion,
    SurveyClosed,
    SurveyPublished,
    SurveyReplayed,
)
from bibmon_common.db import create_pool, migrate
from bibmon_common.events import CloudEvent, Message, parse_envelope, to_envelope
from bibmon_common.messaging.broker import Broker
from bibmon_common.messaging.outbox import OutboxRelay
from bibmon_common.messaging.topology import EXPORTS_EXCHANGE
from bibmon_common.questionnaire import Questionnaire
from bibmon_common.testing.amqp import fresh_vhost
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.service import running_service
from bibmon_common.testing.wait import eventually
from bibmon_demo.data import DEMO_QUESTIONNAIRE, demo_answers
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.deps import ReportingDeps, build_deps
from bibmon_reporting.main import MIGRATIONS_DIR, create_app
from bibmon_reporting.usecases import read_models
from bibmon_reporting.usecases.opendata import publish_survey

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

API = "/api/reporting/open-data"
KB_QUEUE = "kb-export.test-collector"
EXAMPLE = Path(__file__).resolve().parents[4] / "docs/examples/kb_dataset_consumer/consumer.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Reporting also serves on a real port, so the public URLs in the events resolve.
BASE = f"http://127.0.0.1:{_free_port()}"
EMAIL, PHONE, NAME = "j.jansen@bibliotheek-aa.nl", "06-12345678", "Jan de Vries"

# The demo questionnaire with its remark published: free text the scanner must guard.
QUESTIONNAIRE = Questionnaire.model_validate(
    {
        **DEMO_QUESTIONNAIRE.model_dump(mode="json"),
        "sections": [
            {
                **section.model_dump(mode="json"),
                "questions": [
                    {**q.model_dump(mode="json"), "publication": "public"}
                    if q.key == "remarks"
                    else q.model_dump(mode="json")
                    for q in section.questions
                ],
            }
            for section in DEMO_QUESTIONNAIRE.sections
        ],
    }
)
REMARKS = (
    f"Vragen over de cijfers: mail {EMAIL}.",
    f"Bel voor toelichting {PHONE}.",
    f"De telling is gedaan door {NAME}.",
    "Een vestiging was drie maanden gesloten voor verbouwing.",
)


def organisation(i: int) -> OrganisationRegistered:
    return OrganisationRegistered(
        organisation_id=uuid.uuid4(),
        name=f"Bibliotheek Proef {i:03d}",
        province=("Utrecht", "Zeeland")[i % 2],
        municipalities=(f"Gemeente {i}",),
        inhabitants=20_000 + 1_000 * i,
        size_class="small",
    )


def survey_published(survey_id: uuid.UUID, year: int, orgs: list[uuid.UUID]) -> SurveyPublished:
    return SurveyPublished(
        survey_id=survey_id,
        series_key="wsob-proef",
        title=f"Proefmeting {year}",
        mandatory=False,
        opens_at=datetime(year, 1, 10, tzinfo=UTC),
        closes_at=datetime(year, 3, 1, tzinfo=UTC),
        participants=tuple(orgs),
        questionnaire_version=1,
        questionnaire=QUESTIONNAIRE,
    )


def submitted(
    survey_id: uuid.UUID,
    org_id: uuid.UUID,
    remark: str | None,
    *,
    submission: int = 1,
    **extra: Any,
) -> ResponseSubmitted:
    answers = {**demo_answers(org_id, 2025), **extra}
    if remark is not None:
        answers["remarks"] = remark
    return ResponseSubmitted(
        response_id=uuid.uuid5(survey_id, str(org_id)),
        survey_id=survey_id,
        organisation_id=org_id,
        submission=submission,
        submitted_at=datetime.now(UTC),
        questionnaire_version=1,
        answers=answers,
        explanations={"loans": f"Toelichting van {NAME}, {EMAIL}"},
    )


def closed(survey_id: uuid.UUID) -> SurveyClosed:
    return SurveyClosed(survey_id=survey_id, closed_at=datetime.now(UTC), by_hand=True)


@dataclass
class Running:
    app: FastAPI
    client: httpx.AsyncClient
    broker: Broker
    dsn: str
    amqp: str
    exports: list[DatasetPublished]

    async def publish(self, message: Message) -> CloudEvent:
        envelope = to_envelope(message, source="test")
        await self.broker.publish(
            message.exchange,
            message.type,
            envelope.to_bytes(),
            message_id=str(envelope.id),
            headers={},
        )
        return envelope

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    def exports_of(self, survey_id: uuid.UUID) -> list[DatasetPublished]:
        return [e for e in self.exports if e.survey_id == survey_id]


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def running() -> AsyncIterator[Running]:
    async with (
        fresh_database("bibmon_t_opendata") as dsn,
        fresh_vhost("bibmon_t_opendata") as amqp,
    ):
        broker = Broker(amqp, connection_name="test-publisher")
        await broker.connect()  # declares the exchanges, bibmon.exports among them
        exports: list[DatasetPublished] = []
        # A KB system: its own connection and queue on bibmon.exports, bound beforehand.
        kb = await aio_pika.connect_robust(amqp)
        channel = await kb.channel()
        queue = await channel.declare_queue(KB_QUEUE, durable=True)
        await queue.bind(EXPORTS_EXCHANGE, routing_key="reporting.dataset.published.v1")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                envelope = parse_envelope(message.body)
                exports.append(DatasetPublished.model_validate(envelope.data))

        await queue.consume(on_message)
        # The example consumer's queue (docs/examples), bound before anything is published.
        example_queue = await channel.declare_queue("kb-export.datasets", durable=True)
        await example_queue.bind(EXPORTS_EXCHANGE, routing_key=DatasetPublished.type)
        settings = ReportingSettings(
            database_url=dsn,
            amqp_url=amqp,
            environment="test",
            public_base_url=BASE,
            benchmark_poll_seconds=0.1,
            open_data_poll_seconds=0.1,
            open_data_settle_seconds=0.3,
            open_data_replay_quiet_seconds=3.0,
        )
        # Publication waits for quiet on real time (settle and replay-quiet seconds).
        app = create_app(settings, consumer_retry_delays=(0.2, 0.5), clock=SystemClock())
        async with running_service(
            app, base_url=BASE, startup_timeout=60, shutdown_timeout=60
        ) as service:
            # The published file URLs are fetched over HTTP as a harvester would.
            port = int(BASE.rsplit(":", 1)[1])
            server = uvicorn.Server(
                uvicorn.Config(
                    app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
                )
            )
            serving = asyncio.create_task(server.serve())

            async def serving_started() -> bool:
                return bool(server.started)

            await eventually(serving_started, within=10)
            yield Running(app, service.client, broker, dsn, amqp, exports)
            server.should_exit = True
            await serving
        await kb.close()
        await broker.close()


async def _setup_survey(
    running: Running, n: int, remarks: tuple[str | None, ...] = ()
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A published survey with `n` organisations' submissions (first ones with `remarks`)."""
    orgs = [organisation(i) for i in range(n)]
    for org in orgs:
        await running.publish(org)
    survey_id = uuid.uuid4()
    ids = [o.organisation_id for o in orgs]
    await running.publish(survey_published(survey_id, 2025, ids))
    for i, org_id in enumerate(ids):
        await running.publish(
            submitted(survey_id, org_id, remarks[i] if i < len(remarks) else None)
        )

    async def counted() -> bool:
        rows = await running.fetch(
            "SELECT count(*) AS n FROM counted_response WHERE survey_id = $1", survey_id
        )
        return rows[0]["n"] == n

    await eventually(counted, within=20)
    return survey_id, ids


async def _wait_exports(running: Running, survey_id: uuid.UUID, count: int) -> None:
    async def arrived() -> bool:
        return len(running.exports_of(survey_id)) >= count

    await eventually(arrived, within=20)
    # Anything extra would arrive within the workers' next polls: give it the chance.
    await asyncio.sleep(1.0)


async def test_a_survey_that_has_not_closed_has_no_dataset(running: Running) -> None:
    survey_id, _ = await _setup_survey(running, 2)
    await asyncio.sleep(0.5)
    for path in (f"/surveys/{survey_id}.csv", f"/surveys/{survey_id}.json"):
        response = await running.client.get(API + path)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    response = await running.client.get(f"{API}/surveys/{survey_id}/dictionary.json")
    assert response.status_code == 404
    assert (await running.client.get(f"{API}/surveys/{uuid.uuid4()}.csv")).status_code == 404
    listed = (await running.client.get(f"{API}/surveys")).json()
    assert str(survey_id) not in {d["survey_id"] for d in listed}
    assert running.exports_of(survey_id) == []


async def test_closing_publishes_one_dataset_and_one_export_event_per_survey(
    running: Running,
) -> None:
    first, orgs = await _setup_survey(running, 4, REMARKS)
    second, _ = await _setup_survey(running, 3)
    await running.publish(closed(first))
    await running.publish(closed(second))
    await _wait_exports(running, first, 1)
    await _wait_exports(running, second, 1)

    [event] = running.exports_of(first)
    assert len(running.exports_of(second)) == 1
    assert event.dataset_version == 1
    assert event.row_count == 4
    assert event.series_key == "wsob-proef"
    assert event.year == 2025
    assert event.licence == "CC0-1.0"
    assert {f.kind for f in event.files} == {"csv", "json", "dictionary"}
    # Every file's checksum is that of the bytes at its public URL, without a login.
    for f in event.files:
        assert f.url.startswith(f"{BASE}{API}/surveys/{first}")
        response = await running.client.get(f.url)
        assert response.status_code == 200, response.text
        assert hashlib.sha256(response.content).hexdigest() == f.sha256
        assert len(response.content) == f.byte_size

    rows = list(
        csv.DictReader(io.StringIO((await running.client.get(f"{API}/surveys/{first}.csv")).text))
    )
    assert sorted(r["organisation_id"] for r in rows) == sorted(str(o) for o in orgs)
    remarks = {r["organisation_id"]: r["remarks"] for r in rows}
    assert remarks[str(orgs[3])] == REMARKS[3]
    assert [remarks[str(o)] for o in orgs[:3]] == ["", "", ""]
    assert all(r["visits"].isdigit() for r in rows)

    listed = {d["survey_id"]: d for d in (await running.client.get(f"{API}/surveys")).json()}
    assert listed[str(first)]["dataset_version"] == 1
    assert listed[str(second)]["row_count"] == 3

    catalog = (await running.client.get(f"{API}/catalog.jsonld")).json()
    identifiers = {d["dct:identifier"] for d in catalog["dcat:dataset"]}
    assert {str(first), str(second)} <= identifiers


async def test_a_correction_after_closing_publishes_the_next_version_once(
    running: Running,
) -> None:
    survey_id, orgs = await _setup_survey(running, 3)
    await running.publish(closed(survey_id))
    await _wait_exports(running, survey_id, 1)
    # The same close delivered again changes nothing.
    await running.publish(closed(survey_id))
    await running.publish(submitted(survey_id, orgs[0], None, submission=2, visits=123_456))
    await _wait_exports(running, survey_id, 2)

    versions = [e.dataset_version for e in running.exports_of(survey_id)]
    assert versions == [1, 2]
    latest = json.loads((await running.client.get(f"{API}/surveys/{survey_id}.json")).content)
    assert latest["dataset_version"] == 2
    assert {r["organisation_id"]: r["visits"] for r in latest["rows"]}[str(orgs[0])] == 123_456
    pinned = await running.client.get(f"{API}/surveys/{survey_id}.json?version=1")
    assert json.loads(pinned.content)["dataset_version"] == 1
    assert "immutable" in pinned.headers["cache-control"]
    again = await running.client.get(
        f"{API}/surveys/{survey_id}.json?version=1",
        headers={"If-None-Match": pinned.headers["etag"]},
    )
    assert again.status_code == 304
    assert again.content == b""
    changed = await running.client.get(
        f"{API}/surveys/{survey_id}.json", headers={"If-None-Match": pinned.headers["etag"]}
    )
    assert changed.status_code == 200
    assert changed.headers["x-dataset-version"] == "2"
    stored = await running.fetch(
        "SELECT version FROM open_dataset WHERE survey_id = $1 ORDER BY version", survey_id
    )
    assert [r["version"] for r in stored] == [1, 2]


# --- killed halfway ---------------------------------------------------------------------------


async def _seed_closed_survey(deps: ReportingDeps, conn: Any, n: int) -> uuid.UUID:
    """Read models of a closed survey, written by reporting's own use cases."""
    orgs = [organisation(i) for i in range(n)]
    survey_id = uuid.uuid4()
    now = datetime.now(UTC)
    async with conn.transaction():
        for org in orgs:
            await conn.execute(
                "INSERT INTO organisation (id, name, province, municipalities, inhabitants,"
                " size_class, source_time) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                org.organisation_id,
                org.name,
                org.province,
                list(org.municipalities),
                org.inhabitants,
                org.size_class,
                now,
            )
        ids = [o.organisation_id for o in orgs]
        await read_models.survey_published(deps, conn, survey_published(survey_id, 2024, ids), now)
        for org_id in ids:
            await read_models.response_submitted(deps, conn, submitted(survey_id, org_id, None))
        await read_models.survey_closed(deps, conn, closed(survey_id))
    return survey_id


async def test_publication_killed_halfway_leaves_nothing_and_the_rerun_publishes_once() -> None:
    async with (
        fresh_database("bibmon_t_opendata_kill") as dsn,
        fresh_vhost("bibmon_t_opendata_kill") as amqp,
    ):
        await migrate(MIGRATIONS_DIR, dsn)
        pool = await create_pool(dsn, max_size=4)
        admin = await asyncpg.connect(dsn)
        locker = await asyncpg.connect(dsn)
        broker = Broker(amqp, connection_name="test-relay")
        try:
            deps = build_deps(ReportingSettings(public_base_url=BASE))(pool, SystemClock())
            async with pool.acquire() as conn:
                survey_id = await _seed_closed_survey(deps, conn, 5)

            # Hold the outbox so the publisher stops after writing its dataset row, then
            # end its database session: what a crash of the process does to the transaction.
            await locker.execute("BEGIN; LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE")
            task = asyncio.create_task(publish_survey(deps, survey_id))

            async def blocked_pid() -> int | None:
                return await admin.fetchval(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database() AND query LIKE '%INSERT INTO outbox%'"
                )

            await eventually(blocked_pid, within=10)
            pid = await blocked_pid()
            in_flight = await admin.fetchval(
                "SELECT count(*) FROM pg_locks WHERE pid = $1 AND locktype = 'relation'"
                " AND relation = 'open_dataset'::regclass",
                pid,
            )
            assert in_flight >= 1  # the dataset row was written, not yet committed
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
                await task
            await locker.execute("ROLLBACK")

            assert await admin.fetchval("SELECT count(*) FROM open_dataset") == 0
            assert await admin.fetchval("SELECT count(*) FROM outbox") == 0

            # Restarted: the survey is still due; it is published once, and only once.
            assert await publish_survey(deps, survey_id) == 1
            assert await publish_survey(deps, survey_id) is None

            # A KB system's queue on a fresh vhost receives exactly one event.
            await broker.connect()
            channel = await broker.channel()
            queue = await channel.declare_queue("kb-export.kill-test", durable=True)
            await queue.bind(EXPORTS_EXCHANGE, routing_key=DatasetPublished.type)
            relay = OutboxRelay(pool, broker)
            assert await relay.run_once() == 1
            assert await relay.run_once() == 0
            received = []
            while (message := await queue.get(fail=False, timeout=2)) is not None:
                await message.ack()
                received.append(DatasetPublished.model_validate(parse_envelope(message.body).data))
            assert [(e.survey_id, e.dataset_version) for e in received] == [(survey_id, 1)]
            assert received[0].row_count == 5
            assert received[0].year == 2024
        finally:
            await broker.close()
            await locker.close()
            await admin.close()
            await pool.close()


# --- no personal data -------------------------------------------------------------------------


async def test_no_personal_data_in_any_dataset_or_in_reportings_database(
    running: Running,
) -> None:
    survey_id, _ = await _setup_survey(running, 4, REMARKS)
    await running.publish(closed(survey_id))
    await _wait_exports(running, survey_id, 1)
    secrets = (EMAIL, PHONE, NAME)

    # Every file of every published dataset, every version, and the catalogue.
    published = [await running.client.get(f"{API}/catalog.jsonld")]
    for dataset in (await running.client.get(f"{API}/surveys")).json():
        for version in range(1, dataset["dataset_version"] + 1):
            for path in (".csv", ".json", "/dictionary.json"):
                url = f"{API}/surveys/{dataset['survey_id']}{path}?version={version}"
                published.append(await running.client.get(url))
    assert len(published) > 3
    for response in published:
        assert response.status_code == 200
        for secret in secrets:
            assert secret not in response.text, response.url

    # Every text-like column of every table in reporting's database.
    columns = await running.fetch(
        """
        SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'public'
          AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY')
        """
    )
    assert {c["table_name"] for c in columns} >= {"counted_response", "open_dataset", "outbox"}
    for column in columns:
        as_text = (
            f"convert_from(\"{column['column_name']}\", 'UTF8')"
            if column["data_type"] == "bytea"
            else f'"{column["column_name"]}"::text'
        )
        for secret in secrets:
            hits = await running.fetch(
                f'SELECT count(*) AS n FROM "{column["table_name"]}"'
                f" WHERE strpos({as_text}, $1) > 0",
                secret,
            )
            assert hits[0]["n"] == 0, (column["table_name"], column["column_name"], secret)


async def test_the_example_kb_consumer_verifies_every_published_file(running: Running) -> None:
    survey_id, _ = await _setup_survey(running, 2)
    await running.publish(closed(survey_id))
    await _wait_exports(running, survey_id, 1)
    spec = importlib.util.spec_from_file_location("kb_dataset_consumer", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    # The example downloads over real HTTP: keep the event loop free for the server.
    results = await example.run(running.amqp, once=True)

    assert len(results) == len(running.exports)
    assert all(r["verified"] for r in results), results
    assert {(r["survey_id"], r["dataset_version"]) for r in results} == {
        (str(e.survey_id), e.dataset_version) for e in running.exports
    }


# --- a rebuild (last in this module: it empties every read model) ------------------------------


async def test_a_rebuild_never_publishes_a_dataset_from_half_filled_read_models(
    running: Running,
) -> None:
    orgs = [organisation(i) for i in range(3)]
    for org in orgs:
        await running.publish(org)
    survey_id = uuid.uuid4()
    ids = [o.organisation_id for o in orgs]
    published = survey_published(survey_id, 2025, ids)
    await running.publish(published)
    submissions = [submitted(survey_id, org_id, None) for org_id in ids]
    for submission in submissions:
        await running.publish(submission)
    close = closed(survey_id)
    await running.publish(close)
    await _wait_exports(running, survey_id, 1)

    async def counted(n: int) -> bool:
        rows = await running.fetch(
            "SELECT count(*) AS n FROM counted_response WHERE survey_id = $1", survey_id
        )
        return rows[0]["n"] == n

    await read_models.request_rebuild(running.app.state.ctx.deps)
    # The replay trickles in: the organisations, the survey, one of three submissions.
    for org in orgs:
        await running.publish(OrganisationUpdated(**org.model_dump()))
    facts = published.model_dump(exclude={"questionnaire", "questionnaire_version"})
    await running.publish(
        SurveyReplayed(
            **facts,
            questionnaire_versions=(QuestionnaireVersion(version=1, questionnaire=QUESTIONNAIRE),),
            closed_at=close.closed_at,
        )
    )

    def replayed(submission: ResponseSubmitted) -> SubmissionReplayed:
        return SubmissionReplayed(**submission.model_dump(exclude={"explanations"}))

    await running.publish(replayed(submissions[0]))
    await eventually(lambda: counted(1), within=20)
    await asyncio.sleep(2.0)  # well past the settle time, within the replay's quiet time
    assert [e.dataset_version for e in running.exports_of(survey_id)] == [1]

    for submission in submissions[1:]:
        await running.publish(replayed(submission))
    await eventually(lambda: counted(3), within=20)

    async def checked_after_the_replay() -> bool:
        rows = await running.fetch(
            "SELECT o.seen_changed_at = b.changed_at AS done FROM open_data_state o"
            " JOIN benchmark_state b USING (survey_id) WHERE survey_id = $1",
            survey_id,
        )
        return bool(rows and rows[0]["done"])

    await eventually(checked_after_the_replay, within=20)
    await asyncio.sleep(1.0)
    # The rebuilt read models give the very same dataset: nothing new is published.
    assert [e.dataset_version for e in running.exports_of(survey_id)] == [1]
