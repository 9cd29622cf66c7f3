"""The survey journey through the gateway, with every service, RabbitMQ, PostgreSQL and SMTP real.

A researcher (with TOTP) designs a mandatory survey for three libraries and publishes it;
exactly their three contact persons are invited, naming the regulation. Two colleagues of
one library fill in the same response at once (merged per question, a real conflict is a
409 naming the question), invalid answers are refused per question, the library submits
and its contact person gets a receipt. Moving the clock sends reminders only to the two
libraries that have not submitted; at the deadline the survey closes and submitting is
refused, until a researcher reopens one response for a correction.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

import httpx
import pyotp
import pytest
from tests.e2e.helpers import auth, items_of, link_token, text_of, to

pytestmark = pytest.mark.e2e

QUESTIONNAIRE: dict[str, Any] = {
    "sections": [
        {
            "key": "bezoek",
            "title": "Bezoek en vestigingen",
            "questions": [
                {
                    "key": "visitors",
                    "type": "integer",
                    "label": "Aantal bezoeken",
                    "required": True,
                    "min": 0,
                },
                {
                    "key": "has_branches",
                    "type": "yes_no",
                    "label": "Heeft u vestigingen?",
                    "required": True,
                },
                {
                    "key": "branch_count",
                    "type": "integer",
                    "label": "Aantal vestigingen",
                    "required": True,
                    "min": 1,
                    "show_if": {"question": "has_branches", "equals": True},
                },
            ],
        },
        {
            "key": "activiteiten",
            "title": "Activiteiten",
            "questions": [
                {
                    "key": "activities",
                    "type": "integer",
                    "label": "Aantal activiteiten",
                    "required": True,
                    "min": 0,
                },
                {"key": "budget", "type": "amount", "label": "Budget activiteiten", "unit": "EUR"},
                {"key": "remarks", "type": "long_text", "label": "Toelichting"},
            ],
        },
    ]
}


def ok(resp: httpx.Response, *codes: int) -> Any:
    assert resp.status_code in (codes or (200,)), f"{resp.status_code} {resp.text}"
    return resp.json() if resp.content else None


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, f"{resp.status_code} {resp.text}"
    assert resp.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = resp.json()
    return body


def login(c: httpx.Client, username: str, password: str) -> str:
    body = ok(c.post("/api/identity/auth/login", json={"username": username, "password": password}))
    return str(body["access_token"])


def new_user(platform: Any, c: httpx.Client, admin_token: str, **fields: Any) -> dict[str, Any]:
    """Create a user as kb_admin and set its password from the welcome e-mail."""
    tag = uuid.uuid4().hex[:8]
    email = f"{fields.pop('prefix')}.{tag}@bibliotheek-test.nl"
    user = ok(
        c.post(
            "/api/identity/users",
            json={"name": f"Test {tag}", "email": email, **fields},
            headers=auth(admin_token),
        ),
        201,
    )
    welcome = platform.wait_for_mail(lambda m: to(email)(m) and "#token=" in text_of(m))
    password = f"een lange zin over {tag} en de bibliotheek"
    ok(
        c.post(
            "/api/identity/auth/password-reset",
            json={"token": link_token(welcome), "new_password": password},
        ),
        200,
        204,
    )
    return {**user, "email": email, "password": password}


def researcher_token(platform: Any, c: httpx.Client, admin_token: str) -> str:
    """A researcher must enrol TOTP before anything else; then logs in with a code."""
    user = new_user(platform, c, admin_token, prefix="onderzoeker", roles=["researcher"])
    enrol = ok(
        c.post(
            "/api/identity/auth/login",
            json={"username": user["username"], "password": user["password"]},
        )
    )
    enrol_headers = auth(enrol["access_token"])
    problem(c.get("/api/surveys/surveys", headers=enrol_headers), 403)
    secret = ok(c.post("/api/identity/me/mfa/totp", headers=enrol_headers))["secret"]
    totp = pyotp.TOTP(secret)
    ok(
        c.post(
            "/api/identity/me/mfa/totp/confirm", headers=enrol_headers, json={"code": totp.now()}
        )
    )
    step = ok(
        c.post(
            "/api/identity/auth/login",
            json={"username": user["username"], "password": user["password"]},
        )
    )
    assert step["mfa_required"] is True
    code = totp.at(time.time() + 30)  # the confirm used the current step; this one is unused
    full = ok(
        c.post("/api/identity/auth/login/mfa", json={"mfa_token": step["mfa_token"], "code": code})
    )
    return str(full["access_token"])


def staff_of(c: httpx.Client, admin_token: str, organisation_id: str) -> dict[str, Any]:
    users = items_of(
        ok(
            c.get(
                "/api/identity/users",
                params={"organisation_id": organisation_id, "role": "library_staff"},
                headers=auth(admin_token),
            )
        )
    )
    demo = [u for u in users if u["username"].startswith("staff-")]
    assert demo, "every organisation has a demo staff user"
    return dict(demo[0])


def address_of(message: EmailMessage) -> str:
    return parseaddr(str(message["To"]))[1].lower()


def invitations(platform: Any, survey_title: str) -> list[EmailMessage]:
    return [
        m
        for m in platform.smtp.messages
        if survey_title in str(m["Subject"]) and str(m["Subject"]).startswith("Uitnodiging")
    ]


def test_survey_journey_from_design_to_reopened_correction(platform, admin):
    admin_token = admin["access_token"]
    tag = uuid.uuid4().hex[:6]
    title = f"Wsob-gegevenslevering {tag}"
    with platform.client(source="127.0.0.3") as c:
        orgs = items_of(ok(c.get("/api/identity/organisations", params={"limit": 10})))
        a, b, cc, outsider = (o["id"] for o in orgs[:4])
        staff = {o: staff_of(c, admin_token, o) for o in (a, b, cc, outsider)}
        tokens = {o: login(c, staff[o]["username"], platform.demo_password) for o in staff}
        colleague = new_user(
            platform, c, admin_token, prefix="collega", roles=["library_staff"], organisation_id=a
        )
        colleague_token = login(c, colleague["username"], colleague["password"])
        researcher = researcher_token(platform, c, admin_token)

        # -- library staff may not design or publish surveys ------------------------------
        now = datetime.now(UTC)
        survey_in = {
            "title": title,
            "description": "De jaarlijkse gegevenslevering over 2026.",
            "mandatory": True,
            "legal_basis": "wsob",
            "series_key": f"wsob-{tag}",
            "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "closes_at": (now + timedelta(days=20)).isoformat(),
            "participants": {"mode": "list", "organisation_ids": [a, b, cc]},
            "questionnaire": QUESTIONNAIRE,
        }
        problem(c.post("/api/surveys/surveys", json=survey_in, headers=auth(tokens[a])), 403)

        survey = ok(c.post("/api/surveys/surveys", json=survey_in, headers=auth(researcher)), 201)
        sid = survey["id"]
        assert survey["status"] == "draft"
        problem(c.post(f"/api/surveys/surveys/{sid}/publish", headers=auth(tokens[a])), 403)

        # -- contact persons: a colleague registers herself at A, B falls back to its
        #    primary contact, C's staff member registers himself ----------------------------
        ok(
            c.put(
                f"/api/identity/surveys/{sid}/contacts/{a}",
                json={"user_id": colleague["id"]},
                headers=auth(colleague_token),
            )
        )
        ok(
            c.patch(
                f"/api/identity/organisations/{b}",
                json={"primary_contact_user_id": staff[b]["id"]},
                headers=auth(admin_token),
            )
        )
        ok(
            c.put(
                f"/api/identity/surveys/{sid}/contacts/{cc}",
                json={"user_id": staff[cc]["id"]},
                headers=auth(tokens[cc]),
            )
        )

        # -- publish: exactly the three contact persons are invited, naming the regulation --
        published = ok(c.post(f"/api/surveys/surveys/{sid}/publish", headers=auth(researcher)))
        assert published["status"] == "open"
        contacts = {a: colleague["email"], b: staff[b]["email"], cc: staff[cc]["email"]}
        deadline = time.monotonic() + 30
        while len(invitations(platform, title)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # anything extra would arrive now
        invited = invitations(platform, title)
        assert sorted(address_of(m) for m in invited) == sorted(
            e.lower() for e in contacts.values()
        )
        # (Demo surveys may mail the demo staff too; this survey's mail goes to contacts only.)
        assert not [
            m for m in platform.mails_to(staff[a]["email"]) if title in str(m["Subject"])
        ], "only the contact person is mailed"
        for message in invited:
            body = text_of(message)
            assert "Wsob" in body
            assert "verplicht" in body.lower()
            assert f"/vragenlijsten/{sid}" in body

        # -- library staff see the survey of their organisation only ------------------------
        listed = items_of(ok(c.get("/api/surveys/surveys", headers=auth(tokens[a]))))
        assert sid in {s["id"] for s in listed}
        outsider_list = items_of(ok(c.get("/api/surveys/surveys", headers=auth(tokens[outsider]))))
        assert sid not in {s["id"] for s in outsider_list}
        problem(c.get(f"/api/surveys/surveys/{sid}", headers=auth(tokens[outsider])), 404)
        problem(
            c.get(f"/api/responses/surveys/{sid}/response", headers=auth(tokens[outsider])), 404
        )

        # -- two colleagues fill in one response at once ------------------------------------
        url = f"/api/responses/surveys/{sid}/response"
        first = ok(c.get(url, headers=auth(tokens[a])))
        assert first["status"] == "not_started"
        loaded = first["version"]
        mine = ok(
            c.put(
                url,
                json={"answers": {"visitors": 120_000}, "version": loaded},
                headers=auth(tokens[a]),
            )
        )
        theirs = ok(
            c.put(
                url,
                json={"answers": {"activities": 310}, "version": loaded},
                headers=auth(colleague_token),
            )
        )
        assert theirs["answers"]["visitors"] == 120_000
        assert theirs["answers"]["activities"] == 310
        assert set(theirs["changed_at"]) >= {"visitors", "activities"}

        mine = ok(
            c.put(
                url,
                json={"answers": {"budget": 2500.5}, "version": mine["version"]},
                headers=auth(tokens[a]),
            )
        )
        # The colleague still holds the version of her last save: budget changed since.
        conflict = problem(
            c.put(
                url,
                json={"answers": {"budget": 9999}, "version": theirs["version"]},
                headers=auth(colleague_token),
            ),
            409,
        )
        assert [x["question"] for x in conflict["conflicts"]] == ["budget"]
        assert conflict["conflicts"][0]["current_value"] == 2500.5
        assert ok(c.get(url, headers=auth(tokens[a])))["answers"]["budget"] == 2500.5

        # -- invalid answers are refused per question, in Dutch ------------------------------
        state = ok(c.get(url, headers=auth(tokens[a])))
        bad = problem(
            c.put(
                url,
                json={
                    "answers": {"visitors": "veel", "budget": -1.234},
                    "version": state["version"],
                },
                headers=auth(tokens[a]),
            ),
            422,
        )
        assert {e["field"] for e in bad["errors"]} == {"answers.visitors", "answers.budget"}
        assert any("getal" in e["message"] for e in bad["errors"])
        incomplete = problem(c.post(f"{url}/submit", json={}, headers=auth(tokens[a])), 422)
        assert {e["field"] for e in incomplete["errors"]} == {"answers.has_branches"}
        ok(
            c.put(
                url,
                json={"answers": {"has_branches": True}, "version": state["version"]},
                headers=auth(tokens[a]),
            )
        )
        conditional = problem(c.post(f"{url}/submit", json={}, headers=auth(tokens[a])), 422)
        assert {e["field"] for e in conditional["errors"]} == {"answers.branch_count"}
        state = ok(c.get(url, headers=auth(tokens[a])))
        ok(
            c.put(
                url,
                json={"answers": {"branch_count": 4}, "version": state["version"]},
                headers=auth(tokens[a]),
            )
        )

        # -- submit: a receipt for the contact person ----------------------------------------
        submitted = ok(c.post(f"{url}/submit", json={}, headers=auth(colleague_token)))
        assert submitted["status"] == "submitted"
        platform.wait_for_mail(
            lambda m: (
                to(colleague["email"])(m)
                and title in text_of(m)
                and "ontvangen" in text_of(m).lower()
            )
        )
        progress = ok(c.get(f"/api/responses/surveys/{sid}/progress", headers=auth(researcher)))
        status_of = {o["organisation_id"]: o["status"] for o in progress["organisations"]}
        assert status_of == {a: "submitted", b: "not_started", cc: "not_started"}
        problem(c.get(f"/api/responses/surveys/{sid}/progress", headers=auth(tokens[a])), 403)
        # Staff of another organisation cannot reach A's response by its id either.
        problem(c.get(f"/api/responses/surveys/{sid}/responses/{a}", headers=auth(tokens[b])), 404)

        # -- the researcher returns it with a remark: the contact person is told ------------
        remark = "Het aantal vestigingen lijkt niet te kloppen."
        returned = ok(
            c.post(
                f"/api/responses/surveys/{sid}/responses/{a}/return",
                json={"remark": remark},
                headers=auth(researcher),
            )
        )
        assert returned["status"] == "returned"
        platform.wait_for_mail(
            lambda m: (
                to(colleague["email"])(m) and title in str(m["Subject"]) and remark in text_of(m)
            )
        )
        state = ok(c.get(url, headers=auth(tokens[a])))
        assert state["remark"] == remark
        ok(
            c.put(
                url,
                json={"answers": {"branch_count": 3}, "version": state["version"]},
                headers=auth(tokens[a]),
            )
        )
        assert ok(c.post(f"{url}/submit", json={}, headers=auth(tokens[a])))["submission"] == 2

        # B starts a draft but does not submit.
        ok(
            c.put(
                f"/api/responses/surveys/{sid}/response",
                json={"answers": {"visitors": 5000}, "version": 0},
                headers=auth(tokens[b]),
            )
        )

        # -- six days before the deadline: reminders to B and C only -------------------------
        try:
            platform.set_clock(timedelta(days=14))
            for org in (b, cc):
                platform.wait_for_mail(
                    lambda m, o=org: (
                        to(contacts[o])(m)
                        and title in text_of(m)
                        and "herinnering" in str(m["Subject"]).lower()
                    )
                )
            time.sleep(1.5)  # a few more reminder runs: nothing more may be sent
            reminded = [
                m
                for m in platform.smtp.messages
                if "herinnering" in str(m["Subject"]).lower() and title in text_of(m)
            ]
            assert sorted(address_of(m) for m in reminded) == sorted(
                [contacts[b].lower(), contacts[cc].lower()]
            )

            # -- past the deadline: the survey closes and submitting is refused ---------------
            platform.set_clock(timedelta(days=21))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if (
                    ok(c.get(f"/api/surveys/surveys/{sid}", headers=auth(researcher)))["status"]
                    == "closed"
                ):
                    break
                time.sleep(0.3)
            else:
                raise AssertionError("the survey did not close at its deadline")
            problem(c.post(f"{url}/submit", json={}, headers=auth(tokens[b])), 409)

            # -- a researcher reopens A's response; A corrects and submits again ------------
            ok(
                c.post(
                    f"/api/responses/surveys/{sid}/responses/{a}/reopen",
                    json={"reason": "Het aantal bezoeken lijkt te hoog."},
                    headers=auth(researcher),
                )
            )
            state = ok(c.get(url, headers=auth(tokens[a])))
            assert state["status"] == "reopened"
            ok(
                c.put(
                    url,
                    json={"answers": {"visitors": 12_000}, "version": state["version"]},
                    headers=auth(tokens[a]),
                )
            )
            again = ok(c.post(f"{url}/submit", json={}, headers=auth(tokens[a])))
            assert again["status"] == "submitted"
            history = ok(
                c.get(
                    f"/api/responses/surveys/{sid}/responses/{a}/history", headers=auth(researcher)
                )
            )
            versions = items_of(history)
            assert [h["answers"]["visitors"] for h in versions] == [120_000, 120_000, 12_000]
            assert [h["answers"]["branch_count"] for h in versions] == [4, 3, 3]
            assert versions[0]["review"] == "returned"
        finally:
            platform.set_clock(timedelta(0))


def test_a_survey_published_while_the_broker_is_down_reaches_everyone_later(platform, admin):
    """Publishing needs no broker: the outbox holds the event until RabbitMQ is back, then
    responses learns the survey and the contact person gets exactly one invitation."""
    tag = uuid.uuid4().hex[:6]
    title = f"Vrijwillige peiling {tag}"
    with platform.client(source="127.0.0.4") as c:
        org = items_of(ok(c.get("/api/identity/organisations", params={"limit": 20})))[7]
        staff = staff_of(c, admin["access_token"], org["id"])  # the primary contact (demo)
        staff_token = login(c, staff["username"], platform.demo_password)
        researcher = researcher_token(platform, c, admin["access_token"])
        now = datetime.now(UTC)
        survey = ok(
            c.post(
                "/api/surveys/surveys",
                json={
                    "title": title,
                    "description": "Een korte peiling over openingstijden.",
                    "mandatory": False,
                    "opens_at": (now - timedelta(minutes=1)).isoformat(),
                    "closes_at": (now + timedelta(days=30)).isoformat(),
                    "participants": {"mode": "list", "organisation_ids": [org["id"]]},
                    "questionnaire": QUESTIONNAIRE,
                },
                headers=auth(researcher),
            ),
            201,
        )
        url = f"/api/responses/surveys/{survey['id']}/response"
        platform.broker.stop()
        try:
            published = c.post(
                f"/api/surveys/surveys/{survey['id']}/publish", headers=auth(researcher)
            )
            assert published.status_code == 200, published.text
            time.sleep(2)
            assert not [m for m in platform.mails_to(staff["email"]) if title in m["Subject"]]
            # Responses has not heard of the survey yet.
            problem(c.get(url, headers=auth(staff_token)), 404)
        finally:
            platform.broker.start()
        invitation = platform.wait_for_mail(
            lambda m: to(staff["email"])(m) and title in str(m["Subject"]), timeout=90
        )
        body = text_of(invitation)
        assert "vrijwillig" in body.lower()
        assert "verplicht" not in body.lower()
        deadline = time.monotonic() + 30
        while c.get(url, headers=auth(staff_token)).status_code != 200:
            assert time.monotonic() < deadline, "responses never learned the survey"
            time.sleep(0.3)
        time.sleep(1.5)
        assert len([m for m in platform.mails_to(staff["email"]) if title in m["Subject"]]) == 1
