"""What the fault tests do as libraries and researchers: open small surveys, save and
submit responses, and count what every service made of it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any
from uuid import UUID

import httpx
from tests.faults.harness import fetch, fetchval

# One required question: a save and a submit are the whole response.
QUESTIONNAIRE: dict[str, Any] = {
    "sections": [
        {
            "key": "bezoek",
            "title": "Bezoek",
            "questions": [
                {
                    "key": "visitors",
                    "type": "integer",
                    "label": "Aantal bezoeken",
                    "required": True,
                    "min": 0,
                }
            ],
        }
    ]
}


@dataclass
class Survey:
    id: str
    title: str
    organisations: list[UUID]


@dataclass
class Ledger:
    """What the platform acknowledged to the libraries (HTTP 200), and what failed."""

    saved: dict[tuple[str, UUID], int] = field(default_factory=dict)  # last acknowledged
    submitted: set[tuple[str, UUID]] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)
    last_error: str = ""


async def organisations(platform: Any) -> list[UUID]:
    rows = await fetch(platform.dsn("identity"), "SELECT id FROM organisations ORDER BY id")
    return [r["id"] for r in rows]


async def until(probe: Callable[[], Awaitable[Any]], within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}")
        await asyncio.sleep(0.5)


async def open_surveys(
    platform: Any, client: httpx.AsyncClient, count: int, *, label: str
) -> list[Survey]:
    """Open as many one-question surveys as `count` submissions need (each organisation
    takes part once per survey), and wait until responses knows them all."""
    orgs = await organisations(platform)

    async def surveys_know_every_organisation() -> bool:
        n = await fetchval(platform.dsn("surveys"), "SELECT count(*) FROM organisation")
        return int(n) >= len(orgs)

    await until(surveys_know_every_organisation, 60, "surveys knows the organisations")
    researcher = platform.auth("surveys", "researcher")
    surveys: list[Survey] = []
    now = datetime.now(UTC)
    remaining = count
    while remaining > 0:
        members = orgs[: min(len(orgs), remaining)]
        remaining -= len(members)
        tag = uuid.uuid4().hex[:6]
        title = f"Storingsproef {label} {tag}"
        resp = await client.post(
            f"{platform.url('surveys')}/api/surveys/surveys",
            headers=researcher,
            json={
                "title": title,
                "description": "Een vragenlijst van de storingstests.",
                "mandatory": False,
                "series_key": f"faults-{tag}",
                "opens_at": (now - timedelta(minutes=1)).isoformat(),
                "closes_at": (now + timedelta(days=30)).isoformat(),
                "participants": {"mode": "list", "organisation_ids": [str(o) for o in members]},
                "questionnaire": QUESTIONNAIRE,
            },
        )
        assert resp.status_code == 201, resp.text
        sid = resp.json()["id"]
        resp = await client.post(
            f"{platform.url('surveys')}/api/surveys/surveys/{sid}/publish", headers=researcher
        )
        assert resp.status_code == 200, resp.text
        surveys.append(Survey(sid, title, members))

    async def responses_knows_them() -> bool:
        n = await fetchval(
            platform.dsn("responses"),
            "SELECT count(*) FROM survey s WHERE s.id = ANY($1::uuid[])"
            " AND EXISTS (SELECT 1 FROM questionnaire_version q WHERE q.survey_id = s.id)",
            [UUID(s.id) for s in surveys],
        )
        return int(n) == len(surveys)

    await until(responses_knows_them, 60, "responses knows the published surveys")
    return surveys


async def fill_in(
    platform: Any,
    client: httpx.AsyncClient,
    survey: Survey,
    organisation: UUID,
    ledger: Ledger,
    *,
    saves: int = 1,
    submit: bool = True,
    attempts: int = 30,
) -> None:
    """A library's staff member saves `saves` times (values 1, 2, …) and submits.

    A request the platform did not acknowledge is tried again after a pause, as the web
    client's autosave does; only acknowledged (200) requests enter the ledger.
    """
    url = f"{platform.url('responses')}/api/responses/surveys/{survey.id}/response"
    headers = platform.auth("responses", "library_staff", organisation_id=organisation)
    key = (survey.id, organisation)
    for value in range(1, saves + 1):
        for _ in range(attempts):
            try:
                # The version of the state just read: a retry after an unacknowledged
                # save that did commit reads the newer version and saves again.
                state = await client.get(url, headers=headers)
                if state.status_code != 200:
                    ledger.errors[f"get {state.status_code}"] += 1
                    ledger.last_error = state.text[:300]
                    await asyncio.sleep(0.5)
                    continue
                resp = await client.put(
                    url,
                    headers=headers,
                    json={"answers": {"visitors": value}, "version": state.json()["version"]},
                )
            except httpx.HTTPError as exc:
                ledger.errors[type(exc).__name__] += 1
                await asyncio.sleep(0.5)
                continue
            if resp.status_code == 200:
                ledger.saved[key] = value
                break
            ledger.errors[f"save {resp.status_code}"] += 1
            ledger.last_error = resp.text[:300]
            await asyncio.sleep(0.5)
        else:
            return
    if not submit:
        return
    for _ in range(attempts):
        try:
            resp = await client.post(f"{url}/submit", headers=headers, json={})
        except httpx.HTTPError as exc:
            ledger.errors[type(exc).__name__] += 1
            await asyncio.sleep(0.5)
            continue
        if resp.status_code == 200:
            ledger.submitted.add(key)
            return
        if resp.status_code == 409 and "submitted" in resp.text:
            # An earlier try committed but its answer was lost on the way: it counts.
            ledger.submitted.add(key)
            return
        ledger.errors[f"submit {resp.status_code}"] += 1
        ledger.last_error = resp.text[:300]
        await asyncio.sleep(0.5)


async def run_all(jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> None:
    """Run the jobs with at most `concurrency` at once (like that many staff members)."""
    queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker() -> None:
        while not queue.empty():
            job = queue.get_nowait()
            await job()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def receipts(platform: Any, surveys: list[Survey]) -> Counter[tuple[str, str]]:
    """Receipt e-mails per (survey title, recipient address)."""
    titles = {s.title for s in surveys}
    counted: Counter[tuple[str, str]] = Counter()
    for message in platform.smtp.messages:
        subject = str(message["Subject"])
        if not subject.startswith("Ontvangen:"):
            continue
        for title in titles:
            if subject.endswith(title):
                counted[(title, parseaddr(str(message["To"]))[1].lower())] += 1
    return counted


async def submitted_in_responses(platform: Any, surveys: list[Survey]) -> set[tuple[str, UUID]]:
    rows = await fetch(
        platform.dsn("responses"),
        "SELECT survey_id, organisation_id FROM response"
        " WHERE survey_id = ANY($1::uuid[]) AND status = 'submitted'",
        [UUID(s.id) for s in surveys],
    )
    return {(str(r["survey_id"]), r["organisation_id"]) for r in rows}


async def submissions_in_reporting(platform: Any, surveys: list[Survey]) -> Counter[Any]:
    rows = await fetch(
        platform.dsn("reporting"),
        "SELECT survey_id, organisation_id FROM response_submission"
        " WHERE survey_id = ANY($1::uuid[])",
        [UUID(s.id) for s in surveys],
    )
    return Counter((str(r["survey_id"]), r["organisation_id"]) for r in rows)


async def unpublished(platform: Any, service: str) -> int:
    return int(
        await fetchval(
            platform.dsn(service), "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        )
    )
