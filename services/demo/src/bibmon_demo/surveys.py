"""The surveys service's demo data: the closed and the open demo survey (README.md).

`bibmon-demo seed` (which `make run` calls once the services answer) writes them into the
surveys database when its survey table is empty: it waits until identity's organisations
have arrived in the read model (their events come in asynchronously at the first start,
so it waits until the count has stopped changing), then creates both surveys of
`bibmon_demo.data` in one transaction, through the surveys service's own use-case steps,
and announces them with the ordinary events through its outbox (the running service's
relay publishes them): `surveys.survey.published.v1` for both, `surveys.survey.closed.v1`
(`by_hand: false`) for the closed one.

Idempotent: the surveys have fixed ids and are created under an advisory lock only when
neither exists, so two replicas or a restart never create them twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from bibmon_common.projections import list_organisations
from bibmon_demo.data import (
    DEMO_CLOSED_SURVEY_ID,
    DEMO_CLOSED_YEAR,
    DEMO_OPEN_SURVEY_ID,
    DEMO_OPEN_YEAR,
    DEMO_QUESTIONNAIRE,
    DEMO_SERIES_KEY,
)
from bibmon_surveys import domain, usecases
from bibmon_surveys import repository as repo
from bibmon_surveys.deps import SurveysDeps
from bibmon_surveys.models import SurveyIn

log = structlog.get_logger(__name__)

DEMO_LOCK = 0x0B1B_DE30  # pg_advisory_xact_lock key of the demo seeding
DEMO_SURVEY_IDS = (DEMO_CLOSED_SURVEY_ID, DEMO_OPEN_SURVEY_ID)


@dataclass(frozen=True)
class DemoSurvey:
    """One demo survey: its design (as the API takes it) and when it was made and published."""

    survey: SurveyIn
    id: UUID
    created_at: datetime
    published_at: datetime
    closed: bool


def _description(year: int) -> str:
    return (
        f"De jaarlijkse gegevenslevering over {year - 1} op grond van de Wet stelsel openbare "
        "bibliotheekvoorzieningen (Wsob, artikel 7 en 8): collectie, gebruik, activiteiten, "
        "personeel en financiën. Demonstratiegegevens."
    )


def demo_surveys(now: datetime) -> list[DemoSurvey]:
    """The two demo surveys relative to `now`: one closed about ten months ago, one open."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    closed_opens = hour - timedelta(days=395)  # about thirteen months ago
    open_opens = hour - timedelta(days=7)
    specs = [
        (DEMO_CLOSED_SURVEY_ID, DEMO_CLOSED_YEAR, closed_opens, hour - timedelta(days=304), True),
        (DEMO_OPEN_SURVEY_ID, DEMO_OPEN_YEAR, open_opens, hour + timedelta(days=60), False),
    ]
    return [
        DemoSurvey(
            survey=SurveyIn(
                title=f"Wsob-gegevenslevering {year}",
                description=_description(year),
                mandatory=True,
                legal_basis="wsob",
                opens_at=opens_at,
                closes_at=closes_at,
                series_key=DEMO_SERIES_KEY,
                participants=domain.AllOrganisations(mode="all"),
                questionnaire=DEMO_QUESTIONNAIRE,
            ),
            id=survey_id,
            created_at=opens_at - timedelta(days=21),
            published_at=opens_at - timedelta(days=7),
            closed=closed,
        )
        for survey_id, year, opens_at, closes_at, closed in specs
    ]


async def seed(deps: SurveysDeps) -> bool:
    """Create and announce both demo surveys unless they exist; True when this call did.

    One transaction: the surveys, their participants (every organisation of the read
    model) and questionnaire version 1, and their events in the outbox.
    """
    now = deps.now()
    async with deps.transaction() as conn:
        await repo.advisory_lock(conn, DEMO_LOCK)
        if await repo.surveys_exist(conn, DEMO_SURVEY_IDS):
            return False
        organisations = await list_organisations(conn)
        if not organisations:
            return False
        for demo in demo_surveys(now):
            # The API's own conversion and checks, as create_survey and publish_survey do.
            values, errors = usecases.as_columns(dict(demo.survey))
            errors += domain.fact_errors(values)
            if errors:
                raise ValueError(f"demo survey {demo.id} is invalid: {errors}")
            await repo.insert_survey(conn, values | {"id": demo.id, "created_at": demo.created_at})
            row = await repo.get_survey(conn, demo.id, for_update=True)
            assert row is not None
            participants = domain.resolve(domain.AllOrganisations(mode="all"), organisations)
            await usecases.publish_checked(conn, deps, row, participants, demo.published_at)
            if demo.closed:
                await usecases.close_at_deadline(conn, deps, now, [demo.id])
    log.info("demo.surveys_created", surveys=len(DEMO_SURVEY_IDS), participants=len(organisations))
    return True


async def seeded(deps: SurveysDeps) -> bool:
    """Whether the demo surveys are there (this run or an earlier one made them)."""
    async with deps.connection() as conn:
        return await repo.surveys_exist(conn, DEMO_SURVEY_IDS)


async def seed_when_ready(
    deps: SurveysDeps, *, settle_seconds: float = 2.0, wait_seconds: float = 300.0
) -> bool:
    """Wait until the organisations have arrived, then `seed`; False when nothing was done.

    Nothing happens when the survey table is not empty at start (a database in use). The
    read model counts as complete once it is not empty and its count has not changed for
    `settle_seconds`; after `wait_seconds` without that, the task gives up with a log line.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    poll = min(0.5, max(0.02, settle_seconds / 4))
    checked_empty = False
    count, stable_since = -1, loop.time()
    while True:
        try:
            if not checked_empty:
                async with deps.connection() as conn:
                    if await repo.surveys_exist(conn):
                        log.info("demo.skipped", reason="surveys exist")
                        return False
                checked_empty = True
            async with deps.connection() as conn:
                now_count = await repo.organisation_count(conn)
            if now_count != count:
                count, stable_since = now_count, loop.time()
            elif count > 0 and loop.time() - stable_since >= settle_seconds:
                return await seed(deps)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("demo.seed_failed", error_type=type(exc).__name__, error=str(exc))
        if loop.time() >= deadline:
            log.warning(
                "demo.gave_up",
                reason="no organisations" if count <= 0 else "organisations kept changing",
                waited_seconds=wait_seconds,
                organisations=max(count, 0),
            )
            return False
        await asyncio.sleep(poll)
