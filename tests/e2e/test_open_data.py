"""The demo's closed survey is public open data through the gateway, without a login."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time

import pytest

from bibmon_demo.data import DEMO_CLOSED_SURVEY_ID, DEMO_OPEN_SURVEY_ID

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

API = "/api/reporting/open-data"


def test_the_closed_demo_survey_is_published_as_open_data(platform):
    with platform.client(source="127.0.0.7") as c:
        deadline = time.monotonic() + 180
        listed: dict[str, dict] = {}
        while time.monotonic() < deadline:
            response = c.get(f"{API}/surveys")
            assert response.status_code == 200, response.text
            listed = {d["survey_id"]: d for d in response.json()}
            if str(DEMO_CLOSED_SURVEY_ID) in listed:
                break
            time.sleep(1)
        dataset = listed[str(DEMO_CLOSED_SURVEY_ID)]
        assert str(DEMO_OPEN_SURVEY_ID) not in listed
        organisations = c.get("/api/reporting/organisations").json()
        assert dataset["row_count"] == len(organisations) > 0
        assert dataset["licence"] == "CC0-1.0"

        files = {f["kind"]: f for f in dataset["files"]}
        data = c.get(f"{API}/surveys/{DEMO_CLOSED_SURVEY_ID}.csv")
        assert data.status_code == 200
        assert data.headers["content-type"].startswith("text/csv")
        assert hashlib.sha256(data.content).hexdigest() == files["csv"]["sha256"]
        rows = list(csv.DictReader(io.StringIO(data.text)))
        assert len(rows) == len(organisations)
        assert {r["organisation_id"] for r in rows} == {o["id"] for o in organisations}
        assert "visits" in rows[0]
        # Free text is not published by default: the demo's remarks stay out.
        assert "remarks" not in rows[0]

        document = json.loads(c.get(f"{API}/surveys/{DEMO_CLOSED_SURVEY_ID}.json").content)
        assert document["survey"]["series_key"] == "wsob-jaarlijks"
        catalog = c.get(f"{API}/catalog.jsonld")
        assert catalog.headers["content-type"].startswith("application/ld+json")
        assert str(DEMO_CLOSED_SURVEY_ID) in {
            d["dct:identifier"] for d in catalog.json()["dcat:dataset"]
        }
        missing = c.get(f"{API}/surveys/{DEMO_OPEN_SURVEY_ID}.csv")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
