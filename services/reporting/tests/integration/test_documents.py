"""The infographic (SVG, PNG) and report (PDF, HTML) endpoints: access, content, cache."""

from __future__ import annotations

import io
import random
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from bibmon_common.contracts.responses import ResponseSubmitted
from bibmon_common.contracts.surveys import SurveyClosed, SurveyPublished
from bibmon_common.testing.wait import eventually
from bibmon_reporting.documents import renderer as documents_renderer
from bibmon_reporting.documents.renderer import RENDERS

from .conftest import API, Reporting
from .test_benchmarks import QUESTIONNAIRE, _answers

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

KINDS = ("infographic.svg", "infographic.png", "report.pdf", "report.html")
NAMES = [
    "Bibliotheek Gooi én Meer",
    "Bibliotheek Utrecht",
    "Bibliotheek Eemland",
    "Bibliotheek Zeeuwse Eilanden",
    "Bibliotheek Walcheren",
]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    orgs = {}
    for i, province in enumerate(["Utrecht", "Utrecht", "Utrecht", "Zeeland", "Zeeland"]):
        org_id = uuid.uuid4()
        orgs[org_id] = {
            "organisation_id": org_id,
            "name": NAMES[i],
            "province": province,
            "municipalities": (),
            "inhabitants": 20_000 + i * 1000,
            "size_class": "small",
        }
    ids = list(orgs)
    # The last organisation takes part but never submits.
    return {"orgs": orgs, "ids": ids, "submitters": ids[:4], "survey_id": uuid.uuid4()}


def _url(world: dict[str, Any], kind: str) -> str:
    return f"{API}/surveys/{world['survey_id']}/{kind}"


def _staff(reporting: Reporting, organisation_id: uuid.UUID) -> dict[str, str]:
    return reporting.keys.auth("library_staff", organisation_id=organisation_id)


async def _submit(
    reporting: Reporting, world: dict[str, Any], org_id: uuid.UUID, submission: int, seed: int
) -> None:
    survey_id = world["survey_id"]
    await reporting.publish(
        ResponseSubmitted(
            response_id=uuid.uuid5(survey_id, str(org_id)),
            survey_id=survey_id,
            organisation_id=org_id,
            submission=submission,
            submitted_at=datetime.now(UTC),
            questionnaire_version=1,
            answers=_answers(random.Random(seed)),
        )
    )


async def _open_survey(reporting: Reporting, world: dict[str, Any]) -> None:
    survey_id = world["survey_id"]
    if await reporting.fetch("SELECT 1 FROM survey WHERE id = $1", survey_id):
        return
    await reporting.register(list(world["orgs"].values()))
    now = datetime.now(UTC)
    await reporting.publish(
        SurveyPublished(
            survey_id=survey_id,
            title="Monitor 2026",
            mandatory=False,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
            participants=tuple(world["ids"]),
            questionnaire_version=1,
            questionnaire=QUESTIONNAIRE,
        )
    )
    for seed, org_id in enumerate(world["submitters"]):
        await _submit(reporting, world, org_id, 1, seed)

    async def counted() -> bool:
        rows = await reporting.fetch(
            "SELECT count(*) AS n FROM counted_response WHERE survey_id = $1", survey_id
        )
        return rows[0]["n"] == len(world["submitters"])

    await eventually(counted, within=20)
    await reporting.settled(survey_id)


async def _closed_survey(reporting: Reporting, world: dict[str, Any]) -> None:
    await _open_survey(reporting, world)
    survey_id = world["survey_id"]
    rows = await reporting.fetch("SELECT closed_at FROM survey WHERE id = $1", survey_id)
    if rows[0]["closed_at"] is None:
        await reporting.publish(
            SurveyClosed(survey_id=survey_id, closed_at=datetime.now(UTC), by_hand=True)
        )
        await reporting.closed(survey_id)


async def _cache_rows(
    reporting: Reporting, world: dict[str, Any], org_id: uuid.UUID
) -> dict[tuple[str, str], Any]:
    rows = await reporting.fetch(
        "SELECT kind, locale, computed_at, rendered_at FROM rendered_document"
        " WHERE survey_id = $1 AND organisation_id = $2",
        world["survey_id"],
        org_id,
    )
    return {(r["kind"], r["locale"]): r for r in rows}


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_staff_get_no_document_before_the_survey_closes(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    await _open_survey(reporting, world)
    own = world["submitters"][0]
    for kind in KINDS:
        resp = await reporting.client.get(_url(world, kind), headers=_staff(reporting, own))
        assert resp.status_code == 404, kind
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert await _cache_rows(reporting, world, own) == {}


async def test_the_pdf_report_opens_and_names_the_own_organisation(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    await _closed_survey(reporting, world)
    own = world["submitters"][0]
    resp = await reporting.client.get(_url(world, "report.pdf"), headers=_staff(reporting, own))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.headers["content-disposition"] == (
        'attachment; filename="rapport-monitor-2026-bibliotheek-gooi-en-meer.pdf"'
    )
    assert resp.headers["cache-control"] == "no-store"
    reader = PdfReader(io.BytesIO(resp.content))
    assert len(reader.pages) >= 1
    text = _pdf_text(resp.content)
    assert "Bibliotheek Gooi én Meer" in text
    assert "Monitor 2026" in text


async def test_the_svg_infographic_parses_and_carries_a_text_alternative(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    await _closed_survey(reporting, world)
    own = world["submitters"][0]
    resp = await reporting.client.get(
        _url(world, "infographic.svg"), headers=_staff(reporting, own)
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/svg+xml"
    assert resp.headers["content-disposition"].startswith("inline; ")
    root = ET.fromstring(resp.content)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert "Bibliotheek Gooi én Meer" in (root.findtext(f"{SVG}title") or "")
    assert root.findtext(f"{SVG}desc")


async def test_the_png_infographic_is_a_png_with_a_dutch_file_name(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    await _closed_survey(reporting, world)
    own = world["submitters"][0]
    resp = await reporting.client.get(
        _url(world, "infographic.png"), headers=_staff(reporting, own)
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png"
    assert resp.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert resp.headers["content-disposition"] == (
        'attachment; filename="infographic-monitor-2026-bibliotheek-gooi-en-meer.png"'
    )


async def test_the_html_report_is_a_page_about_the_organisation(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    await _closed_survey(reporting, world)
    own = world["submitters"][0]
    resp = await reporting.client.get(_url(world, "report.html"), headers=_staff(reporting, own))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert resp.headers["content-language"] == "nl"
    assert '<html lang="nl"' in resp.text
    assert "Bibliotheek Gooi én Meer" in resp.text
    assert "<svg" in resp.text  # the infographic, inline


async def test_a_second_request_is_served_from_the_cache(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    await _closed_survey(reporting, world)
    own = world["submitters"][0]
    headers = _staff(reporting, own)
    first = {kind: await reporting.client.get(_url(world, kind), headers=headers) for kind in KINDS}
    rows = await _cache_rows(reporting, world, own)
    assert set(rows) == {("svg", "nl"), ("png", "nl"), ("pdf", "nl"), ("html", "nl")}
    renders = dict(RENDERS)
    for kind in KINDS:
        again = await reporting.client.get(_url(world, kind), headers=headers)
        assert again.status_code == 200
        assert again.content == first[kind].content
    assert dict(RENDERS) == renders
    assert await _cache_rows(reporting, world, own) == rows


async def test_a_correction_renders_the_documents_again(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    await _closed_survey(reporting, world)
    survey_id, own = world["survey_id"], world["submitters"][0]
    headers = _staff(reporting, own)
    for kind in KINDS:
        assert (await reporting.client.get(_url(world, kind), headers=headers)).status_code == 200
    before = await _cache_rows(reporting, world, own)
    renders = dict(RENDERS)

    await _submit(reporting, world, own, 2, seed=1234)

    async def recomputed() -> bool:
        rows = await reporting.fetch(
            "SELECT computed_at FROM benchmark_state WHERE survey_id = $1", survey_id
        )
        return rows[0]["computed_at"] > before[("pdf", "nl")]["computed_at"]

    await eventually(recomputed, within=20)
    await reporting.settled(survey_id)
    state = await reporting.fetch(
        "SELECT computed_at FROM benchmark_state WHERE survey_id = $1", survey_id
    )
    resp = await reporting.client.get(_url(world, "report.pdf"), headers=headers)
    assert resp.status_code == 200
    assert RENDERS["pdf"] == renders.get("pdf", 0) + 1
    assert RENDERS["svg"] == renders.get("svg", 0) + 1  # the report's infographic, redrawn
    after = await _cache_rows(reporting, world, own)
    assert after[("pdf", "nl")]["computed_at"] == state[0]["computed_at"]
    assert after[("pdf", "nl")]["rendered_at"] > before[("pdf", "nl")]["rendered_at"]
    # Not asked for since: still the old rendering, replaced on its next request.
    assert after[("png", "nl")]["computed_at"] == before[("png", "nl")]["computed_at"]


async def test_english_is_rendered_and_cached_apart(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    await _closed_survey(reporting, world)
    own = world["submitters"][0]
    headers = _staff(reporting, own)
    resp = await reporting.client.get(
        _url(world, "report.pdf"), params={"lang": "en"}, headers=headers
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-language"] == "en"
    assert resp.headers["content-disposition"] == (
        'attachment; filename="report-monitor-2026-bibliotheek-gooi-en-meer.pdf"'
    )
    assert ("pdf", "en") in await _cache_rows(reporting, world, own)
    wrong = await reporting.client.get(
        _url(world, "report.pdf"), params={"lang": "de"}, headers=headers
    )
    assert wrong.status_code == 422
    assert wrong.headers["content-type"].startswith("application/problem+json")


async def test_nobody_else_gets_an_organisations_documents(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    await _closed_survey(reporting, world)
    own, other, silent = world["submitters"][0], world["submitters"][1], world["ids"][4]
    for kind in KINDS:
        for headers, params in (
            # staff of another organisation that took part, asking for this one
            (_staff(reporting, other), {"organisation_id": str(own)}),
            # staff of an organisation that did not submit, asking for their own
            (_staff(reporting, silent), {}),
            # a user without a library role
            (reporting.keys.auth("someone", organisation_id=own), {}),
        ):
            resp = await reporting.client.get(_url(world, kind), params=params, headers=headers)
            assert resp.status_code == 404, (kind, params)
            assert resp.headers["content-type"].startswith("application/problem+json")
        resp = await reporting.client.get(
            f"{API}/surveys/{uuid.uuid4()}/{kind}", headers=_staff(reporting, own)
        )
        assert resp.status_code == 404
        assert (await reporting.client.get(_url(world, kind))).status_code == 401
        resp = await reporting.client.get(
            _url(world, kind), headers=reporting.keys.auth("kb_admin")
        )
        assert resp.status_code == 422
    assert await _cache_rows(reporting, world, silent) == {}


async def test_researchers_and_kb_admins_get_any_organisations_documents(
    reporting: Reporting, world: dict[str, Any]
) -> None:
    await _closed_survey(reporting, world)
    other = world["submitters"][2]
    for role in ("researcher", "kb_admin"):
        resp = await reporting.client.get(
            _url(world, "report.pdf"),
            params={"organisation_id": str(other)},
            headers=reporting.keys.auth(role),
        )
        assert resp.status_code == 200, resp.text
        assert "Bibliotheek Eemland" in _pdf_text(resp.content)


async def test_reports_render_in_a_worker_thread_not_on_the_event_loop(
    reporting: Reporting, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    await _closed_survey(reporting, world)
    org_id = world["submitters"][3]  # nothing of it rendered yet
    assert await _cache_rows(reporting, world, org_id) == {}
    threads: list[tuple[str, threading.Thread]] = []
    real = documents_renderer._renderer

    def spy(kind: Any, *args: Any) -> Callable[[], bytes]:
        render = real(kind, *args)

        def run() -> bytes:
            threads.append((kind, threading.current_thread()))
            return render()

        return run

    monkeypatch.setattr(documents_renderer, "_renderer", spy)
    resp = await reporting.client.get(
        _url(world, "report.pdf"),
        params={"organisation_id": str(org_id)},
        headers=reporting.keys.auth("researcher"),
    )
    assert resp.status_code == 200
    loop_thread = threading.current_thread()  # the tests share the service's event loop
    assert [kind for kind, _ in threads] == ["svg", "pdf"]
    assert all(thread is not loop_thread for _, thread in threads)
