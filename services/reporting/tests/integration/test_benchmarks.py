"""Benchmarks from events: every figure equals an independent computation over raw answers.

Through real RabbitMQ and PostgreSQL: organisations, a survey and submissions arrive as
their producers' events, some twice, some out of order, some returned or corrected.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bibmon_common.contracts.identity import OrganisationUpdated
from bibmon_common.contracts.responses import (
    ResponseReturned,
    ResponseSubmitted,
    SubmissionReplayed,
)
from bibmon_common.contracts.surveys import (
    QuestionnaireVersion,
    SurveyClosed,
    SurveyPublished,
    SurveyReplayed,
)
from bibmon_common.questionnaire import Questionnaire
from bibmon_common.testing.diff import first_difference
from bibmon_common.testing.wait import eventually
from bibmon_reporting.repository import READ_MODEL_TABLES
from bibmon_reporting.usecases.read_models import request_rebuild

from .conftest import API, Reporting
from .expected import assert_numeric_group, expected_report, size_label

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

QUESTIONNAIRE = Questionnaire.model_validate(
    {
        "sections": [
            {
                "key": "gebruik",
                "title": "Gebruik",
                "questions": [
                    {
                        "key": "visits",
                        "type": "integer",
                        "label": "Bezoeken",
                        "min": 0,
                        "per_inhabitant": True,
                    },
                    {"key": "budget", "type": "amount", "label": "Budget", "unit": "EUR"},
                    {"key": "youth_share", "type": "percentage", "label": "Jeugdleden"},
                    {"key": "fte", "type": "decimal", "label": "Fte", "publication": "internal"},
                    {
                        "key": "secret_count",
                        "type": "integer",
                        "label": "X",
                        "publication": "never",
                    },
                ],
            },
            {
                "key": "beleid",
                "title": "Beleid",
                "questions": [
                    {"key": "has_branches", "type": "yes_no", "label": "Vestigingen?"},
                    {
                        "key": "focus",
                        "type": "single_choice",
                        "label": "Speerpunt",
                        "options": [
                            {"value": "lezen", "label": "Lezen"},
                            {"value": "digitaal", "label": "Digitaal"},
                            {"value": "debat", "label": "Debat"},
                        ],
                    },
                    {
                        "key": "services",
                        "type": "multiple_choice",
                        "label": "Diensten",
                        "options": [
                            {"value": "ido", "label": "IDO"},
                            {"value": "taalhuis", "label": "Taalhuis"},
                            {"value": "makerspace", "label": "Makerspace"},
                        ],
                    },
                    {"key": "remarks", "type": "long_text", "label": "Toelichting"},
                    {
                        "key": "highlight",
                        "type": "short_text",
                        "label": "Hoogtepunt",
                        "publication": "public",
                    },
                ],
            },
        ],
        "key_figures": ["visits", "budget"],
    }
)

PRIVATE_TEXT = "Neem contact op met Jan Jansen, jan@example.org"
# Utrecht 9, Zeeland 10, Drenthe 2 (too few), sizes spread so one class is small too.
PROVINCES = ["Utrecht"] * 9 + ["Zeeland"] * 10 + ["Drenthe"] * 2
SIZES = ["small", "medium", "large"] * 6 + ["very_large"] * 2 + ["large"]


def _answers(rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "visits": rng.randint(1_000, 90_000),
        "budget": round(rng.uniform(1e5, 5e6), 2),
        "youth_share": rng.choice([20, 25.5, 30, 30, 41.25]),  # ties on purpose
        "fte": round(rng.uniform(2, 80), 1),
        "secret_count": 7,
        "has_branches": rng.random() < 0.6,
        "focus": rng.choice(["lezen", "digitaal", "debat"]),
        "services": rng.sample(["ido", "taalhuis", "makerspace"], rng.randint(1, 3)),
        "remarks": PRIVATE_TEXT,
        "highlight": "Nieuwe vestiging geopend",
    }
    if rng.random() < 0.2:
        del answers["budget"]  # optional questions left open
    return answers


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    rng = random.Random(20261129)
    orgs = {}
    for i, (province, size) in enumerate(zip(PROVINCES, SIZES, strict=True)):
        org_id = uuid.uuid4()
        orgs[org_id] = {
            "organisation_id": org_id,
            "name": f"Bibliotheek {i:02d}",
            "province": province,
            "municipalities": (f"Gemeente {i}",),
            "inhabitants": rng.randint(8_000, 400_000),
            "size_class": size,
        }
    return {"rng": rng, "orgs": orgs, "survey_id": uuid.uuid4()}


def _submitted(survey_id, org_id, answers, submission=1, response_id=None, at=None):
    return ResponseSubmitted(
        response_id=response_id or uuid.uuid5(survey_id, str(org_id)),
        survey_id=survey_id,
        organisation_id=org_id,
        submission=submission,
        submitted_at=at or datetime.now(UTC),
        questionnaire_version=1,
        answers=answers,
    )


async def test_figures_equal_an_independent_computation_over_the_counted_answers(
    reporting: Reporting, scenario: dict[str, Any]
) -> None:
    rng, orgs, survey_id = scenario["rng"], scenario["orgs"], scenario["survey_id"]
    await reporting.register(list(orgs.values()))
    now = datetime.now(UTC)
    ids = list(orgs)
    counted: dict[uuid.UUID, dict[str, Any]] = {}
    # Submissions first: the survey's publication overtaken by its responses (retried).
    early = ids[0]
    counted[early] = _answers(rng)
    await reporting.publish(_submitted(survey_id, early, counted[early]))
    await reporting.publish(
        SurveyPublished(
            survey_id=survey_id,
            series_key="test",
            title="Jaarlijkse monitor",
            mandatory=True,
            legal_basis="wsob",
            opens_at=now - timedelta(days=30),
            closes_at=now + timedelta(days=30),
            participants=tuple(ids),
            questionnaire_version=1,
            questionnaire=QUESTIONNAIRE,
        )
    )
    for org_id in ids[1:15]:
        counted[org_id] = _answers(rng)
        envelope = await reporting.publish(_submitted(survey_id, org_id, counted[org_id]))
        if org_id == ids[1]:
            # Delivered twice with the same id, and once more re-sent by a relay.
            msg = _submitted(survey_id, org_id, counted[org_id])
            await reporting.republish(msg, envelope)
    # Returned, corrected: the correction counts.
    corrected = ids[15]
    first = _answers(rng)
    await reporting.publish(_submitted(survey_id, corrected, first, at=now - timedelta(days=3)))
    await reporting.publish(
        ResponseReturned(
            response_id=uuid.uuid5(survey_id, str(corrected)),
            survey_id=survey_id,
            organisation_id=corrected,
            submission=1,
            remark="Controleer de bezoeken",
            returned_at=now - timedelta(days=2),
        )
    )
    counted[corrected] = _answers(rng)
    await reporting.publish(_submitted(survey_id, corrected, counted[corrected], submission=2))
    # Out of order: submission 2 arrives before submission 1; 2 counts.
    late = ids[16]
    counted[late] = _answers(rng)
    await reporting.publish(_submitted(survey_id, late, counted[late], submission=2))
    await reporting.publish(_submitted(survey_id, late, _answers(rng), submission=1))
    # Returned and not submitted again: does not count.
    gone = ids[17]
    await reporting.publish(_submitted(survey_id, gone, _answers(rng)))
    await reporting.publish(
        ResponseReturned(
            response_id=uuid.uuid5(survey_id, str(gone)),
            survey_id=survey_id,
            organisation_id=gone,
            submission=1,
            remark="Onvolledig",
            returned_at=now,
        )
    )
    # The return of submission 2 overtakes submission 2 itself: submission 1 still counts.
    overtaken = ids[18]
    counted[overtaken] = _answers(rng)
    await reporting.publish(_submitted(survey_id, overtaken, counted[overtaken]))
    await reporting.publish(
        ResponseReturned(
            response_id=uuid.uuid5(survey_id, str(overtaken)),
            survey_id=survey_id,
            organisation_id=overtaken,
            submission=2,
            remark="Nee",
            returned_at=now,
        )
    )
    await reporting.publish(_submitted(survey_id, overtaken, _answers(rng), submission=2))
    # Both Drenthe organisations count: a province group of two shows no figures.
    for org_id in ids[19:]:
        counted[org_id] = _answers(rng)
        await reporting.publish(_submitted(survey_id, org_id, counted[org_id]))

    admin = reporting.keys.auth("researcher")

    async def received() -> bool:
        # Every submission (24: three organisations submitted twice) and every return (3).
        rows = await reporting.fetch(
            "SELECT count(answers) AS submitted, count(returned_at) AS returned"
            " FROM response_submission WHERE survey_id = $1",
            survey_id,
        )
        return (rows[0]["submitted"], rows[0]["returned"]) == (len(ids) + 3, 3)

    await eventually(received, within=30)
    await reporting.settled(survey_id)

    facts = {i: orgs[i] for i in counted}
    for org_id in ids:
        resp = await reporting.client.get(
            f"{API}/surveys/{survey_id}/benchmark",
            params={"organisation_id": str(org_id)},
            headers=admin,
        )
        assert resp.status_code == 200, resp.text
        report = resp.json()
        assert report["counted"] == len(counted)
        assert report["organisation"]["size_class_label"] == size_label(orgs[org_id]["size_class"])
        all_facts = {**facts, org_id: orgs[org_id]}
        want = expected_report(QUESTIONNAIRE, org_id, all_facts, counted)
        questions = {q["key"]: q for s in report["sections"] for q in s["questions"]}
        # Free text, `never` and date questions have no benchmark.
        assert set(questions) == {
            "visits",
            "budget",
            "youth_share",
            "fte",
            "has_branches",
            "focus",
            "services",
        }
        assert [q["key"] for q in report["sections"][0]["questions"] if q["key_figure"]] == [
            "visits",
            "budget",
        ]
        for key in ("visits", "budget", "youth_share", "fte"):
            got = questions[key]
            assert got["numeric"]["own"] == want[key]["own"]
            for group in got["numeric"]["groups"]:
                assert_numeric_group(
                    group, want[key]["numeric"][group["kind"]], f"{org_id} {key} {group['kind']}"
                )
        per = questions["visits"]["per_inhabitant"]
        if want["visits"]["own_per"] is None:
            assert per["own"] is None
        else:
            assert per["own"] == pytest.approx(want["visits"]["own_per"], rel=1e-12)
        for group in per["groups"]:
            assert_numeric_group(
                group, want["visits"]["per_inhabitant"][group["kind"]], f"{org_id} per_1000"
            )
        assert questions["budget"]["per_inhabitant"] is None
        for key in ("has_branches", "focus", "services"):
            got = questions[key]
            assert (got["own_choice"] and sorted(got["own_choice"])) == (
                want[key]["own_choice"] and sorted(want[key]["own_choice"])
            )
            for group in got["choice"]:
                exp = want[key]["choice"][group["kind"]]
                assert group["n"] == exp["n"]
                assert group["too_few"] == exp["too_few"]
                if not exp["too_few"]:
                    shares = {s["value"]: s["percent"] for s in group["shares"]}
                    assert shares == pytest.approx(exp["shares"])
                else:
                    assert group["shares"] == []

    drenthe = next(i for i in ids if orgs[i]["province"] == "Drenthe")
    resp = await reporting.client.get(
        f"{API}/surveys/{survey_id}/benchmark",
        params={"organisation_id": str(drenthe)},
        headers=admin,
    )
    province = next(
        g
        for g in resp.json()["sections"][0]["questions"][0]["numeric"]["groups"]
        if g["kind"] == "province"
    )
    assert province == {
        "kind": "province",
        "label": "Drenthe",
        "n": 2,
        "too_few": True,
        "mean": None,
        "median": None,
        "q1": None,
        "q3": None,
        "min": None,
        "max": None,
        "percentile_rank": None,
    }


async def test_unpublished_answers_never_reach_reportings_database(
    reporting: Reporting, scenario: dict[str, Any]
) -> None:
    rows = await reporting.fetch(
        "SELECT answers FROM response_submission WHERE survey_id = $1"
        " UNION ALL SELECT answers FROM counted_response WHERE survey_id = $1",
        scenario["survey_id"],
    )
    assert rows
    for row in rows:
        answers = row["answers"]
        if answers is None:
            continue
        assert "remarks" not in answers
        assert "secret_count" not in answers
        assert PRIVATE_TEXT not in answers.values()
        assert answers["highlight"] == "Nieuwe vestiging geopend"  # published free text
    numeric = await reporting.fetch(
        "SELECT DISTINCT question_key FROM answer_numeric WHERE survey_id = $1",
        scenario["survey_id"],
    )
    assert {r["question_key"] for r in numeric} == {"visits", "budget", "youth_share", "fte"}


async def test_a_correction_after_close_updates_the_dated_figures(
    reporting: Reporting, scenario: dict[str, Any]
) -> None:
    survey_id, orgs = scenario["survey_id"], scenario["orgs"]
    org_id = next(iter(orgs))
    admin = reporting.keys.auth("kb_admin")
    await reporting.publish(
        SurveyClosed(survey_id=survey_id, closed_at=datetime.now(UTC), by_hand=True)
    )
    await reporting.closed(survey_id)
    url = f"{API}/surveys/{survey_id}/benchmark"
    before = (
        await reporting.client.get(url, params={"organisation_id": str(org_id)}, headers=admin)
    ).json()
    correction = _answers(random.Random(1))
    correction["visits"] = 123_456_789
    await reporting.publish(_submitted(survey_id, org_id, correction, submission=2))

    async def updated() -> dict[str, Any] | None:
        resp = await reporting.client.get(
            url, params={"organisation_id": str(org_id)}, headers=admin
        )
        body = resp.json()
        national = body["sections"][0]["questions"][0]["numeric"]["groups"][0]
        return body if national["max"] == 123_456_789 else None

    after = await eventually(updated, within=20)
    assert after["computed_at"] > before["computed_at"]
    national = after["sections"][0]["questions"][0]["numeric"]["groups"][0]
    assert national["max"] == 123_456_789
    assert national["percentile_rank"] == pytest.approx((national["n"] - 0.5) / national["n"] * 100)


async def _all_reports(reporting: Reporting, scenario: dict[str, Any]) -> dict[str, Any]:
    admin = reporting.keys.auth("researcher")
    out = {}
    for org_id in scenario["orgs"]:
        resp = await reporting.client.get(
            f"{API}/surveys/{scenario['survey_id']}/benchmark",
            params={"organisation_id": str(org_id)},
            headers=admin,
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        del body["computed_at"]
        out[str(org_id)] = body
    return out


async def test_rebuild_from_the_producers_replay_reproduces_every_figure(
    reporting: Reporting, scenario: dict[str, Any]
) -> None:
    survey_id, orgs = scenario["survey_id"], scenario["orgs"]
    before = await _all_reports(reporting, scenario)
    counted = await reporting.fetch(
        "SELECT * FROM counted_response WHERE survey_id = $1", survey_id
    )
    # What the producers hold: responses keeps the full answers, free text included.
    full = {r["organisation_id"]: {**r["answers"], "remarks": PRIVATE_TEXT} for r in counted}
    announced = await reporting.fetch("SELECT * FROM report_ready ORDER BY organisation_id")
    survey = (await reporting.fetch("SELECT * FROM survey WHERE id = $1", survey_id))[0]

    replay_id = await request_rebuild(reporting.app.state.ctx.deps)

    for table in READ_MODEL_TABLES:
        assert await reporting.fetch(f"SELECT 1 FROM {table} LIMIT 1") == [], table
    outbox = await reporting.fetch(
        "SELECT payload FROM outbox WHERE type = 'reporting.replay.requested.v1'"
    )
    assert [o["payload"]["data"]["replay_id"] for o in outbox] == [str(replay_id)]
    # The producers' answers (ADR 0012), in an unhelpful order: submissions first.
    for row in counted:
        await reporting.publish(
            SubmissionReplayed(
                response_id=row["response_id"],
                survey_id=survey_id,
                organisation_id=row["organisation_id"],
                submission=row["submission"],
                submitted_at=row["submitted_at"],
                questionnaire_version=row["questionnaire_version"],
                answers=full[row["organisation_id"]],
            )
        )
    await reporting.publish(
        SurveyReplayed(
            survey_id=survey_id,
            series_key=survey["series_key"],
            title=survey["title"],
            mandatory=True,
            legal_basis="wsob",
            opens_at=survey["opens_at"],
            closes_at=survey["closes_at"],
            participants=tuple(survey["participants"]),
            questionnaire_versions=(QuestionnaireVersion(version=1, questionnaire=QUESTIONNAIRE),),
            closed_at=survey["closed_at"],
        )
    )
    for org in orgs.values():
        await reporting.publish(OrganisationUpdated(**org))

    async def rebuilt() -> bool:
        rows = await reporting.fetch(
            "SELECT (SELECT count(*) FROM counted_response) AS c,"
            " (SELECT count(*) FROM organisation) AS o"
        )
        return (rows[0]["c"], rows[0]["o"]) == (len(counted), len(orgs))

    await eventually(rebuilt, within=30)
    await reporting.settled(survey_id)
    after = await _all_reports(reporting, scenario)
    assert first_difference(after, before) is None
    assert after == before
    assert await reporting.fetch("SELECT * FROM report_ready ORDER BY organisation_id") == announced
