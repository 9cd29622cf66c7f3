"""The demo data's benchmarks: every figure of every organisation's report checked.

The 123 organisations of identity's shipped list and the closed demo survey with every
library's answers, delivered as their producers' events (as `make run` delivers them),
then compared figure by figure with the independent computation in `expected.py`. The
demo questionnaire marks no question per inhabitant; a second questionnaire version that
does (published after the close) checks the per-1,000-inhabitant figures over the same
answers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest

from bibmon_common.contracts.responses import ResponseSubmitted
from bibmon_common.contracts.surveys import QuestionnairePublished, SurveyClosed, SurveyPublished
from bibmon_common.questionnaire import Questionnaire
from bibmon_common.testing.wait import eventually
from bibmon_demo.data import (
    DEMO_CLOSED_SURVEY_ID,
    DEMO_CLOSED_YEAR,
    DEMO_NAMESPACE,
    DEMO_QUESTIONNAIRE,
    DEMO_SERIES_KEY,
    demo_answers,
)
from bibmon_demo.responses import demo_dates
from bibmon_demo.surveys import demo_surveys
from bibmon_identity.domain.organisations import parse_organisations_csv, size_class

from .conftest import API, Reporting
from .expected import assert_report_matches, expected_report

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

PER_INHABITANT = ("loans", "visits", "members")


def _shipped_organisations() -> dict[uuid.UUID, dict[str, Any]]:
    """Identity's shipped register (what it loads at first start), with its size classes."""
    text = (
        resources.files("bibmon_identity")
        .joinpath("data/organisations-nl.csv")
        .read_text(encoding="utf-8")
    )
    parsed = parse_organisations_csv(text)
    assert not parsed.errors
    orgs = {}
    for row in parsed.rows:
        org_id = uuid.uuid5(DEMO_NAMESPACE, f"organisation/{row.name}")
        orgs[org_id] = {
            "organisation_id": org_id,
            "name": row.name,
            "province": row.province,
            "municipalities": tuple(row.municipalities),
            "inhabitants": row.inhabitants,
            "size_class": size_class(row.inhabitants).value,
        }
    return orgs


def _per_inhabitant(questionnaire: Questionnaire) -> Questionnaire:
    """The demo questionnaire with loans, visits and members marked per inhabitant."""
    data = questionnaire.model_dump(mode="json", exclude_none=True)
    for section in data["sections"]:
        for question in section["questions"]:
            if question["key"] in PER_INHABITANT:
                question["per_inhabitant"] = True
    return Questionnaire.model_validate(data)


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    orgs = _shipped_organisations()
    answers = {i: demo_answers(i, DEMO_CLOSED_YEAR) for i in orgs}
    return {"orgs": orgs, "answers": answers}


async def _check_every_report(
    reporting: Reporting, demo: dict[str, Any], questionnaire: Questionnaire
) -> set[tuple[str, str]]:
    """Compare every organisation's report; the (question, group kind)s shown as too few."""
    orgs, answers = demo["orgs"], demo["answers"]
    researcher = reporting.keys.auth("researcher")
    too_few: set[tuple[str, str]] = set()
    for org_id, org in orgs.items():
        resp = await reporting.client.get(
            f"{API}/surveys/{DEMO_CLOSED_SURVEY_ID}/benchmark",
            params={"organisation_id": str(org_id)},
            headers=researcher,
        )
        assert resp.status_code == 200, resp.text
        report = resp.json()
        assert report["counted"] == len(orgs)
        assert report["min_group_size"] == 3
        assert report["organisation"]["province"] == org["province"]
        assert report["organisation"]["size_class"] == org["size_class"]
        want = expected_report(questionnaire, org_id, orgs, answers, min_size=3)
        assert_report_matches(report, want, questionnaire)
        for section in report["sections"]:
            for q in section["questions"]:
                groups = (q["numeric"] or {}).get("groups", []) or q["choice"] or []
                too_few |= {(q["key"], g["kind"]) for g in groups if g["too_few"]}
    return too_few


async def test_every_demo_figure_equals_an_independent_computation(
    reporting: Reporting, demo: dict[str, Any]
) -> None:
    orgs, answers = demo["orgs"], demo["answers"]
    assert len(orgs) == 123
    assert len({o["province"] for o in orgs.values()}) == 12
    await reporting.register(list(orgs.values()))
    closed = next(d for d in demo_surveys(datetime.now(UTC)) if d.closed)
    survey = closed.survey
    await reporting.publish(
        SurveyPublished(
            survey_id=DEMO_CLOSED_SURVEY_ID,
            series_key=DEMO_SERIES_KEY,
            title=survey.title,
            mandatory=True,
            legal_basis="wsob",
            opens_at=survey.opens_at,
            closes_at=survey.closes_at,
            participants=tuple(orgs),
            questionnaire_version=1,
            questionnaire=DEMO_QUESTIONNAIRE,
        )
    )
    # What responses' demo seeding puts in its outbox for every participant.
    for org_id in orgs:
        _, submitted_at = demo_dates(
            DEMO_CLOSED_SURVEY_ID, org_id, survey.opens_at, survey.closes_at
        )
        await reporting.publish(
            ResponseSubmitted(
                response_id=uuid.uuid5(
                    DEMO_NAMESPACE, f"response/{DEMO_CLOSED_SURVEY_ID}/{org_id}"
                ),
                survey_id=DEMO_CLOSED_SURVEY_ID,
                organisation_id=org_id,
                submission=1,
                submitted_at=submitted_at,
                questionnaire_version=1,
                answers=answers[org_id],
            )
        )
    await reporting.publish(
        SurveyClosed(survey_id=DEMO_CLOSED_SURVEY_ID, closed_at=survey.closes_at, by_hand=False)
    )

    async def received() -> bool:
        rows = await reporting.fetch(
            "SELECT count(*) AS n FROM counted_response WHERE survey_id = $1",
            DEMO_CLOSED_SURVEY_ID,
        )
        return bool(rows[0]["n"] == len(orgs))

    await eventually(received, within=60)
    await reporting.closed(DEMO_CLOSED_SURVEY_ID)

    too_few = await _check_every_report(reporting, demo, DEMO_QUESTIONNAIRE)
    # The minimum group size is exercised: Groningen and Flevoland have two organisations.
    assert too_few, "no group below the minimum size: the rule went unchecked"


async def test_demo_figures_per_inhabitant_equal_an_independent_computation(
    reporting: Reporting, demo: dict[str, Any]
) -> None:
    marked = _per_inhabitant(DEMO_QUESTIONNAIRE)
    before = await reporting.fetch(
        "SELECT computed_seq FROM benchmark_state WHERE survey_id = $1", DEMO_CLOSED_SURVEY_ID
    )
    await reporting.publish(
        QuestionnairePublished(
            survey_id=DEMO_CLOSED_SURVEY_ID, questionnaire_version=2, questionnaire=marked
        )
    )

    async def recomputed() -> bool:
        rows = await reporting.fetch(
            "SELECT computed_seq FROM benchmark_state WHERE survey_id = $1",
            DEMO_CLOSED_SURVEY_ID,
        )
        return bool(rows[0]["computed_seq"] > before[0]["computed_seq"])

    await eventually(recomputed, within=30)
    await reporting.settled(DEMO_CLOSED_SURVEY_ID)
    await _check_every_report(reporting, demo, marked)
