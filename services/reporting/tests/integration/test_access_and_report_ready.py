"""Who sees which report when, and `reporting.report.ready.v1` once per submitting organisation."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import pytest
import pytest_asyncio

from bibmon_common.contracts.identity import OrganisationUpdated
from bibmon_common.contracts.responses import ResponseSubmitted
from bibmon_common.contracts.surveys import SurveyClosed, SurveyPublished
from bibmon_common.events import EVENTS_EXCHANGE
from bibmon_common.testing.wait import eventually

from .conftest import API, Reporting
from .test_benchmarks import QUESTIONNAIRE, _answers

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


class Listener:
    """A queue of our own bound to report-ready events, as the notifier's would be."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            self.messages.append(json.loads(message.body))


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def listener(reporting: Reporting) -> AsyncIterator[Listener]:
    connection = await aio_pika.connect(reporting.amqp)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key="reporting.report.ready.v1")
    listener = Listener()
    await queue.consume(listener.on_message)
    yield listener
    await connection.close()


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    orgs = {}
    for i, province in enumerate(["Utrecht", "Utrecht", "Utrecht", "Zeeland", "Zeeland"]):
        org_id = uuid.uuid4()
        orgs[org_id] = {
            "organisation_id": org_id,
            "name": f"Bibliotheek {i}",
            "province": province,
            "municipalities": (),
            "inhabitants": 20_000 + i * 1000,
            "size_class": "small",
        }
    ids = list(orgs)
    # The last organisation takes part but never submits.
    return {"orgs": orgs, "ids": ids, "submitters": ids[:4], "survey_id": uuid.uuid4()}


async def _open_survey_with_submissions(reporting: Reporting, world: dict[str, Any]) -> None:
    survey_id = world["survey_id"]
    if await reporting.fetch("SELECT 1 FROM survey WHERE id = $1", survey_id):
        return
    await reporting.register(list(world["orgs"].values()))
    now = datetime.now(UTC)
    await reporting.publish(
        SurveyPublished(
            survey_id=survey_id,
            title="Monitor",
            mandatory=False,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
            participants=tuple(world["ids"]),
            questionnaire_version=1,
            questionnaire=QUESTIONNAIRE,
        )
    )
    rng = random.Random(7)
    for org_id in world["submitters"]:
        await reporting.publish(
            ResponseSubmitted(
                response_id=uuid.uuid5(survey_id, str(org_id)),
                survey_id=survey_id,
                organisation_id=org_id,
                submission=1,
                submitted_at=now,
                questionnaire_version=1,
                answers=_answers(rng),
            )
        )

    async def counted() -> bool:
        rows = await reporting.fetch(
            "SELECT count(*) AS n FROM counted_response WHERE survey_id = $1", survey_id
        )
        return rows[0]["n"] == len(world["submitters"])

    await eventually(counted, within=20)
    await reporting.settled(survey_id)


def _url(world: dict[str, Any]) -> str:
    return f"{API}/surveys/{world['survey_id']}/benchmark"


async def test_staff_see_no_report_before_the_survey_closes(
    reporting: Reporting, world: dict[str, Any], listener: Listener
) -> None:
    await _open_survey_with_submissions(reporting, world)
    own = world["submitters"][0]
    resp = await reporting.client.get(
        _url(world), headers=reporting.keys.auth("library_staff", organisation_id=own)
    )
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/problem+json")
    listing = await reporting.client.get(
        f"{API}/surveys/{world['survey_id']}/reports",
        headers=reporting.keys.auth("library_staff", organisation_id=own),
    )
    assert listing.json() == []
    assert listener.messages == []


async def test_researchers_and_kb_admins_see_live_figures_of_any_organisation(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    await _open_survey_with_submissions(reporting, world)
    for role in ("researcher", "kb_admin"):
        for org_id in world["ids"]:  # also the one that did not submit
            resp = await reporting.client.get(
                _url(world),
                params={"organisation_id": str(org_id)},
                headers=reporting.keys.auth(role),
            )
            assert resp.status_code == 200, resp.text
            assert resp.json()["organisation"]["id"] == str(org_id)
        listing = await reporting.client.get(
            f"{API}/surveys/{world['survey_id']}/reports", headers=reporting.keys.auth(role)
        )
        assert {r["organisation_id"] for r in listing.json()} == {
            str(i) for i in world["submitters"]
        }
    resp = await reporting.client.get(_url(world), headers=reporting.keys.auth("researcher"))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "organisation_id"


async def test_closing_announces_each_submitting_organisation_once(
    reporting: Reporting, world: dict[str, Any], listener: Listener
) -> None:
    await _open_survey_with_submissions(reporting, world)
    survey_id = world["survey_id"]
    close = SurveyClosed(survey_id=survey_id, closed_at=datetime.now(UTC), by_hand=False)
    envelope = await reporting.publish(close)
    await reporting.closed(survey_id)

    async def announced() -> bool:
        return len(listener.messages) >= len(world["submitters"])

    await eventually(announced, within=20)
    # Redelivered (same id) and sent again by a second relay (new id): nothing new.
    await reporting.republish(close, envelope)
    await reporting.publish(close)
    state = await reporting.fetch(
        "SELECT computed_at FROM benchmark_state WHERE survey_id = $1", survey_id
    )
    await asyncio.sleep(1.5)  # give a wrong second announcement the time to show up
    data = [m["data"] for m in listener.messages]
    assert sorted(d["organisation_id"] for d in data) == sorted(str(i) for i in world["submitters"])
    assert {d["survey_id"] for d in data} == {str(survey_id)}
    assert {m["type"] for m in listener.messages} == {"reporting.report.ready.v1"}
    assert set(data[0]) == {"survey_id", "organisation_id", "computed_at"}
    assert datetime.fromisoformat(data[0]["computed_at"]) == state[0]["computed_at"]


async def test_a_correction_after_close_sends_no_second_report_ready(
    reporting: Reporting, world: dict[str, Any], listener: Listener
) -> None:
    survey_id = world["survey_id"]
    org_id = world["submitters"][1]
    before = len(listener.messages)
    assert before == len(world["submitters"])
    await reporting.publish(
        ResponseSubmitted(
            response_id=uuid.uuid5(survey_id, str(org_id)),
            survey_id=survey_id,
            organisation_id=org_id,
            submission=2,
            submitted_at=datetime.now(UTC),
            questionnaire_version=1,
            answers=_answers(random.Random(99)),
        )
    )

    async def recounted() -> bool:
        rows = await reporting.fetch(
            "SELECT submission FROM counted_response WHERE survey_id = $1 AND organisation_id = $2",
            survey_id,
            org_id,
        )
        return rows[0]["submission"] == 2

    await eventually(recounted, within=20)
    await reporting.settled(survey_id)
    await asyncio.sleep(1.5)
    assert len(listener.messages) == before


async def test_staff_see_their_own_report_after_close_and_nobody_elses(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    own, other = world["submitters"][0], world["submitters"][1]
    staff = reporting.keys.auth("library_staff", organisation_id=own)
    resp = await reporting.client.get(_url(world), headers=staff)
    assert resp.status_code == 200, resp.text
    assert resp.json()["organisation"]["id"] == str(own)
    assert resp.json()["survey"]["closed_at"] is not None
    resp = await reporting.client.get(
        _url(world), params={"organisation_id": str(other)}, headers=staff
    )
    assert resp.status_code == 404
    listing = await reporting.client.get(
        f"{API}/surveys/{world['survey_id']}/reports", headers=staff
    )
    assert [r["organisation_id"] for r in listing.json()] == [str(own)]
    # Staff of an organisation that did not submit, a user without a library role,
    # and an unknown survey: 404; no token: 401.
    silent = world["ids"][4]
    for headers, url in (
        (reporting.keys.auth("library_staff", organisation_id=silent), _url(world)),
        (reporting.keys.auth("someone", organisation_id=own), _url(world)),
        (staff, f"{API}/surveys/{uuid.uuid4()}/benchmark"),
    ):
        resp = await reporting.client.get(url, headers=headers)
        assert resp.status_code == 404, url
        assert resp.json()["status"] == 404
    assert (await reporting.client.get(_url(world))).status_code == 401


async def test_an_organisation_that_moves_province_is_benchmarked_in_its_new_province(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    mover = world["submitters"][3]  # Zeeland, the only submitter there
    url = _url(world)
    admin = reporting.keys.auth("researcher")

    def province_group(body: dict[str, Any]) -> dict[str, Any]:
        visits = body["sections"][0]["questions"][0]
        return next(g for g in visits["numeric"]["groups"] if g["kind"] == "province")

    before = (
        await reporting.client.get(url, params={"organisation_id": str(mover)}, headers=admin)
    ).json()
    assert province_group(before)["label"] == "Zeeland"
    assert province_group(before)["too_few"] is True
    moved = {**world["orgs"][mover], "province": "Utrecht"}
    await reporting.publish(OrganisationUpdated(**moved))

    async def regrouped() -> dict[str, Any] | None:
        body = (
            await reporting.client.get(url, params={"organisation_id": str(mover)}, headers=admin)
        ).json()
        group = province_group(body)
        return group if group["label"] == "Utrecht" and group["n"] == 4 else None

    group = await eventually(regrouped, within=20)
    assert group["too_few"] is False
