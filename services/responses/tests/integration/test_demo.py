"""Demo data: once responses has learnt the demo closed survey from its publication,
seeding (`bibmon-demo seed`, development only) brings a submitted response from every
participant, once, with its events; the next year's demo answers raise no warnings.

The session's service and its own consumer, fed through the real broker; the seeding is
`bibmon_demo.responses` against the service's database.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from bibmon_common.contracts.surveys import SurveyClosed, SurveyPublished
from bibmon_common.events import Message
from bibmon_common.messaging.broker import Broker
from bibmon_demo.data import (
    DEMO_CLOSED_SURVEY_ID,
    DEMO_CLOSED_YEAR,
    DEMO_OPEN_SURVEY_ID,
    DEMO_OPEN_YEAR,
    DEMO_QUESTIONNAIRE,
    DEMO_SERIES_KEY,
    demo_answers,
)
from bibmon_demo.responses import seed
from bibmon_responses import consumers
from bibmon_responses.deps import ResponsesDeps

from .conftest import Events, Org, Reviewer, publish_as_surveys

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

SUBMITTED = "responses.response.submitted.v1"


class Demo:
    def __init__(self, deps: ResponsesDeps, broker: Broker, events: Events) -> None:
        self.deps = deps
        self.pool = deps.pool
        self.broker = broker
        self.events = events

    async def publish(self, message: Message, *, message_id: uuid.UUID | None = None) -> uuid.UUID:
        return await publish_as_surveys(self.broker, message, message_id=message_id)

    async def processed(self, *message_ids: uuid.UUID, within: float = 10.0) -> None:
        """Wait until the service's consumer took these messages (their inbox rows)."""
        deadline = time.monotonic() + within
        while await self.pool.fetchval(
            "SELECT count(*) FROM inbox WHERE message_id = ANY($1::uuid[])", list(message_ids)
        ) < len(message_ids):
            assert time.monotonic() < deadline, "the consumer did not take the messages"
            await asyncio.sleep(0.05)

    def submitted(self, survey_id: uuid.UUID) -> list[dict[str, Any]]:
        return [
            e["data"]
            for e in self.events.received
            if e["type"] == SUBMITTED and e["data"]["survey_id"] == str(survey_id)
        ]


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def demo(deps: ResponsesDeps, broker: Broker, events: Events) -> Demo:
    return Demo(deps, broker, events)


def _published(
    survey_id: uuid.UUID, participants: list[uuid.UUID], opens_at: datetime, closes_at: datetime
) -> SurveyPublished:
    year = DEMO_CLOSED_YEAR if survey_id == DEMO_CLOSED_SURVEY_ID else DEMO_OPEN_YEAR
    return SurveyPublished(
        survey_id=survey_id,
        series_key=DEMO_SERIES_KEY,
        title=f"Wsob-gegevenslevering {year}",
        mandatory=True,
        legal_basis="wsob",
        opens_at=opens_at,
        closes_at=closes_at,
        participants=tuple(participants),
        questionnaire_version=1,
        questionnaire=DEMO_QUESTIONNAIRE,
    )


ORGANISATIONS = [uuid.uuid4() for _ in range(6)]
NOW = datetime.now(UTC).replace(microsecond=0)
CLOSED_OPENS = NOW - timedelta(days=395)
CLOSED_CLOSES = NOW - timedelta(days=304)


async def test_the_demo_closed_survey_gets_a_submitted_response_from_every_participant(
    demo, keys, client
):
    closed = _published(DEMO_CLOSED_SURVEY_ID, ORGANISATIONS, CLOSED_OPENS, CLOSED_CLOSES)
    published_id = await demo.publish(closed)
    closed_id = await demo.publish(
        SurveyClosed(survey_id=DEMO_CLOSED_SURVEY_ID, closed_at=CLOSED_CLOSES, by_hand=False)
    )
    # Redelivered (same id), and sent again under a new id: still one response each.
    await demo.publish(closed, message_id=published_id)
    again_id = await demo.publish(closed)
    await demo.processed(published_id, closed_id, again_id)
    assert not await demo.pool.fetchval(
        "SELECT count(*) FROM response WHERE survey_id = $1", DEMO_CLOSED_SURVEY_ID
    ), "the consumer seeds nothing itself"
    # Seeding twice at once, then again: still one response each.
    assert sorted(await asyncio.gather(seed(demo.pool), seed(demo.pool))) == [0, 6]
    assert await seed(demo.pool) == 0

    pool = demo.pool
    rows = await pool.fetch(
        "SELECT r.organisation_id, r.status, r.submission, r.revision, r.submitted_at,"
        " s.answers, s.submitted_at AS snapshot_at, s.warnings"
        " FROM response r JOIN response_submission s ON s.response_id = r.id"
        " WHERE r.survey_id = $1",
        DEMO_CLOSED_SURVEY_ID,
    )
    assert sorted(r["organisation_id"] for r in rows) == sorted(ORGANISATIONS)
    for row in rows:
        assert row["status"] == "submitted"
        assert (row["submission"], row["revision"]) == (1, 1)
        assert CLOSED_OPENS < row["submitted_at"] < CLOSED_CLOSES
        assert row["snapshot_at"] == row["submitted_at"]
        assert row["answers"] == demo_answers(row["organisation_id"], DEMO_CLOSED_YEAR)
        assert row["warnings"] == []
    outbox = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE type = $1 AND payload->'data'->>'survey_id' = $2",
        SUBMITTED,
        str(DEMO_CLOSED_SURVEY_ID),
    )
    assert outbox == 6

    deadline = time.monotonic() + 10
    while len(demo.submitted(DEMO_CLOSED_SURVEY_ID)) < 6:
        assert time.monotonic() < deadline, "ResponseSubmitted did not reach the broker"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    events = demo.submitted(DEMO_CLOSED_SURVEY_ID)
    assert sorted(e["organisation_id"] for e in events) == sorted(str(o) for o in ORGANISATIONS)
    first = next(e for e in events if e["organisation_id"] == str(ORGANISATIONS[0]))
    assert first["submission"] == 1
    assert first["questionnaire_version"] == 1
    assert first["answers"] == demo_answers(ORGANISATIONS[0], DEMO_CLOSED_YEAR)

    # As a researcher and the library see it.
    researcher = Reviewer(client, keys.auth("researcher"))
    progress = (await researcher.progress(DEMO_CLOSED_SURVEY_ID)).json()
    assert progress["counts"]["submitted"] == 6
    history = (await researcher.history(DEMO_CLOSED_SURVEY_ID, ORGANISATIONS[1])).json()
    assert [h["submission"] for h in history["items"]] == [1]
    staff = Org(client, keys, ORGANISATIONS[1])
    mine = (await staff.get(DEMO_CLOSED_SURVEY_ID)).json()
    assert mine["status"] == "submitted"
    assert mine["can_edit"] is False
    assert mine["answers"] == demo_answers(ORGANISATIONS[1], DEMO_CLOSED_YEAR)


async def test_next_years_demo_answers_submit_without_plausibility_warnings(demo, keys, client):
    """The open survey of the series compares with the closed one: demo figures stay quiet."""
    open_ = _published(
        DEMO_OPEN_SURVEY_ID, ORGANISATIONS, NOW - timedelta(days=7), NOW + timedelta(days=60)
    )
    await demo.processed(await demo.publish(open_))
    await seed(demo.pool)
    assert not await demo.pool.fetchval(
        "SELECT count(*) FROM response WHERE survey_id = $1", DEMO_OPEN_SURVEY_ID
    ), "only the closed demo survey gets answers"
    for organisation_id in ORGANISATIONS[:3]:
        staff = Org(client, keys, organisation_id)
        submitted = await staff.answer_and_submit(
            DEMO_OPEN_SURVEY_ID, demo_answers(organisation_id, DEMO_OPEN_YEAR)
        )
        assert submitted["status"] == "submitted"
        assert submitted["warnings"] == []
        assert submitted["previous_answers"] == demo_answers(organisation_id, DEMO_CLOSED_YEAR)


async def test_the_consumer_has_no_demo_branch_and_seeding_waits_for_the_publication(demo):
    """Demo data is a development command (`bibmon-demo seed`), not a consumer branch."""
    routes = [r for r in consumers.ROUTES if r.message_type.type == SurveyPublished.type]
    assert [r.handler for r in routes] == [consumers.on_survey_published]
    assert await seed(demo.pool, uuid.uuid4()) is None, "an unknown survey: nothing yet"


async def test_another_survey_gets_no_demo_responses(demo):
    other = _published(uuid.uuid4(), ORGANISATIONS, CLOSED_OPENS, CLOSED_CLOSES)
    await demo.processed(await demo.publish(other))
    await seed(demo.pool)
    assert await demo.pool.fetchval("SELECT 1 FROM survey WHERE id = $1", other.survey_id)
    assert not await demo.pool.fetchval(
        "SELECT count(*) FROM response WHERE survey_id = $1", other.survey_id
    )
