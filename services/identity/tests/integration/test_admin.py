"""Organisations, users, contact persons, AVG export and erasure."""

import uuid
from datetime import UTC, datetime

import pytest

from bibmon_common.contracts.reporting import ReplayRequested
from bibmon_common.testing.amqp import publish_as
from bibmon_common.testing.wait import eventually

API = "/api/identity"
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_organisation_list_is_public_paginated_and_filterable(svc):
    async with svc.client_from("127.0.0.8") as anonymous:
        page = await anonymous.get(f"{API}/organisations?limit=10")
    assert page.status_code == 200
    assert page.json()["total"] >= 100
    assert len(page.json()["items"]) == 10
    friesland = (await svc.client.get(f"{API}/organisations?province=Friesland&limit=500")).json()
    assert friesland["total"] > 0
    assert {o["province"] for o in friesland["items"]} == {"Fryslân"}
    large = (await svc.client.get(f"{API}/organisations?size_class=very_large&limit=500")).json()
    assert all(o["inhabitants"] >= 250_000 for o in large["items"])
    assert large["items"][0]["size_class_label"] == "zeer groot"
    bad = await svc.client.get(f"{API}/organisations?size_class=huge")
    assert bad.status_code == 422


async def test_shipped_organisations_are_announced_as_events_without_personal_data(svc):
    events = await svc.outbox("identity.organisation.registered.v1")
    assert len(events) >= 100
    assert set(events[0]) == {
        "organisation_id",
        "name",
        "province",
        "municipalities",
        "inhabitants",
        "size_class",
    }


async def test_only_kb_admin_creates_organisations(svc):
    body = {
        "name": "Bibliotheek Testdorp",
        "province": "Zeeland",
        "municipalities": ["Testdorp"],
        "inhabitants": 12_000,
    }
    async with svc.client_from("127.0.0.9") as fresh:  # no cookies from earlier logins
        anonymous = await fresh.post(f"{API}/organisations", json=body)
    assert anonymous.status_code == 401
    staff = await svc.new_user()
    token = (await svc.login(staff["username"], staff["password"])).json()["access_token"]
    assert (
        await svc.client.post(f"{API}/organisations", json=body, headers=svc.auth(token))
    ).status_code == 403
    created = await svc.client.post(f"{API}/organisations", json=body, headers=svc.auth())
    assert created.status_code == 201, created.text
    assert created.json()["size_class"] == "small"
    duplicate = await svc.client.post(f"{API}/organisations", json=body, headers=svc.auth())
    assert duplicate.status_code == 409
    unknown_province = await svc.client.post(
        f"{API}/organisations", headers=svc.auth(), json=body | {"name": "X", "province": "Bayern"}
    )
    assert unknown_province.status_code == 422
    assert unknown_province.json()["errors"][0]["field"] == "province"
    grown = await svc.client.patch(
        f"{API}/organisations/{created.json()['id']}",
        headers=svc.auth(),
        json={"inhabitants": 120_000},
    )
    assert grown.json()["size_class"] == "large"
    assert await svc.outbox(
        "identity.organisation.updated.v1", organisation_id=created.json()["id"], size_class="large"
    )


async def test_csv_import_creates_updates_and_reports_line_errors(svc):
    csv = (
        "name,province,municipalities,inhabitants,source\n"
        "Bibliotheek Importstad,Utrecht,Importstad;Buurdorp,45000,TEST\n"
        "Bibliotheek Testdorp,Zeeland,Testdorp,13000,TEST\n"
        "Kapotte Regel,Nergensland,Niets,1,TEST\n"
    )
    answer = await svc.client.post(
        f"{API}/organisations/import",
        content=csv.encode(),
        headers=svc.auth() | {"content-type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["created"] == 1
    assert result["updated"] + result["unchanged"] == 1
    assert result["errors"][0]["line"] == 4
    wrong_type = await svc.client.post(
        f"{API}/organisations/import", json={"a": 1}, headers=svc.auth()
    )
    assert wrong_type.status_code == 415
    assert wrong_type.headers["content-type"] == "application/problem+json"


async def test_kb_admin_lists_demo_staff_usernames(svc):
    users = (
        await svc.client.get(f"{API}/users?role=library_staff&limit=500", headers=svc.auth())
    ).json()
    assert any(u["username"].startswith("staff-") for u in users["items"])
    demo = next(u for u in users["items"] if u["username"].startswith("staff-"))
    login = await svc.login(demo["username"], "demo password for all staff")
    assert login.status_code == 200
    # Each demo staff member is the primary contact of their organisation, so survey
    # e-mails of the demo surveys reach someone.
    org = (await svc.client.get(f"{API}/organisations/{demo['organisation_id']}")).json()
    assert org["primary_contact_user_id"] == demo["id"]


async def test_contact_person_rules(svc):
    org_a, org_b = await svc.organisation_id(10), await svc.organisation_id(11)
    staff_a = await svc.new_user(organisation_id=org_a)
    colleague_a = await svc.new_user(organisation_id=org_a)
    staff_b = await svc.new_user(organisation_id=org_b)
    token_a = (await svc.login(staff_a["username"], staff_a["password"])).json()["access_token"]
    survey = uuid.uuid4()
    url_a = f"{API}/surveys/{survey}/contacts/{org_a}"
    url_b = f"{API}/surveys/{survey}/contacts/{org_b}"

    assert (await svc.client.get(url_a, headers=svc.auth(token_a))).status_code == 404
    own = await svc.client.put(
        url_a, headers=svc.auth(token_a), json={"user_id": colleague_a["id"]}
    )
    assert own.status_code == 200, own.text
    assert own.json()["user_id"] == colleague_a["id"]
    assert (await svc.client.get(url_a, headers=svc.auth(token_a))).json()[
        "user_id"
    ] == colleague_a["id"]
    assert await svc.outbox(
        "identity.contact_person.assigned.v1", survey_id=str(survey), user_id=colleague_a["id"]
    )
    # another organisation's contact is invisible (404, not 403)
    other = await svc.client.put(url_b, headers=svc.auth(token_a), json={"user_id": staff_b["id"]})
    assert other.status_code == 404
    # a user of another organisation cannot be named
    foreign = await svc.client.put(
        url_a, headers=svc.auth(token_a), json={"user_id": staff_b["id"]}
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["field"] == "user_id"
    # kb_admin may set any organisation's contact
    by_admin = await svc.client.put(url_b, headers=svc.auth(), json={"user_id": staff_b["id"]})
    assert by_admin.status_code == 200


async def test_user_exports_own_data_and_kb_admin_erasure_reaches_the_notifier(svc):
    user = await svc.new_user()
    login = (await svc.login(user["username"], user["password"])).json()
    export = await svc.client.get(f"{API}/me/export", headers=svc.auth(login["access_token"]))
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    data = export.json()
    assert data["account"]["email"] == user["email"]
    assert data["account"]["username"] == user["username"]
    assert any(entry["action"] == "login" for entry in data["audit_log"])
    assert "password_hash" not in str(data)

    erased = await svc.client.delete(f"{API}/users/{user['id']}", headers=svc.auth())
    assert erased.status_code == 204
    assert await svc.outbox("identity.user.erased.v1", user_id=user["id"])
    assert (
        await svc.client.get(f"{API}/users/{user['id']}", headers=svc.auth())
    ).status_code == 404
    assert (
        await svc.client.post(f"{API}/auth/refresh", json={"refresh_token": login["refresh_token"]})
    ).status_code == 401
    assert (await svc.login(user["username"], user["password"])).status_code == 401
    async with svc.pool.acquire() as conn:
        rows = await conn.fetch("SELECT details::text AS d, object_id FROM audit_log")
    assert all(user["email"] not in row["d"] for row in rows)
    assert all(user["username"] not in row["d"] for row in rows)


async def test_disabling_a_user_ends_their_sessions(svc):
    user = await svc.new_user()
    login = (await svc.login(user["username"], user["password"])).json()
    patched = await svc.client.patch(
        f"{API}/users/{user['id']}", headers=svc.auth(), json={"disabled": True}
    )
    assert patched.json()["disabled"] is True
    assert (
        await svc.client.post(f"{API}/auth/refresh", json={"refresh_token": login["refresh_token"]})
    ).status_code == 401
    assert (await svc.login(user["username"], user["password"])).status_code == 401


async def test_unknown_organisation_in_user_creation_is_a_field_error(svc):
    answer = await svc.client.post(
        f"{API}/users",
        headers=svc.auth(),
        json={
            "name": "X",
            "email": "x@example.nl",
            "roles": ["library_staff"],
            "organisation_id": str(uuid.uuid4()),
        },
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "organisation_id"


async def test_a_replay_request_republishes_every_organisation_as_updated(svc):
    organisations = (await svc.client.get(f"{API}/organisations?limit=500")).json()
    before = len(await svc.outbox("identity.organisation.updated.v1"))
    settings = svc.deps.settings
    await publish_as(
        settings.amqp_url,
        ReplayRequested(replay_id=uuid.uuid4(), requested_at=datetime.now(UTC)),
        source="test/reporting",
        connection_name="identity-test-reporting",
    )

    async def replayed():
        found = await svc.outbox("identity.organisation.updated.v1")
        return found[before:] if len(found) - before >= organisations["total"] else None

    found = await eventually(replayed, within=20)
    assert len(found) == organisations["total"]
    by_id = {o["organisation_id"]: o for o in found}
    first = organisations["items"][0]
    assert by_id[first["id"]]["inhabitants"] == first["inhabitants"]
    assert set(by_id[first["id"]]) == {
        "organisation_id",
        "name",
        "province",
        "municipalities",
        "inhabitants",
        "size_class",
    }


async def test_kb_admin_finds_users_by_part_of_username_name_or_email(svc):
    tag = uuid.uuid4().hex[:6]
    user = await svc.new_user(name=f"Zoekbare {tag} Persoon")
    by_name = (
        await svc.client.get(f"{API}/users", params={"q": f"ZOEKBARE {tag}"}, headers=svc.auth())
    ).json()
    assert [u["id"] for u in by_name["items"]] == [user["id"]]
    assert by_name["total"] == 1
    by_email = (
        await svc.client.get(f"{API}/users", params={"q": user["email"][:8]}, headers=svc.auth())
    ).json()
    assert [u["id"] for u in by_email["items"]] == [user["id"]]
    by_username = (
        await svc.client.get(f"{API}/users", params={"q": user["username"]}, headers=svc.auth())
    ).json()
    assert user["id"] in [u["id"] for u in by_username["items"]]
    # LIKE's wildcards are taken literally: "%" matches no name containing no "%".
    wildcard = (await svc.client.get(f"{API}/users", params={"q": "%"}, headers=svc.auth())).json()
    assert wildcard["total"] == 0
    too_long = await svc.client.get(f"{API}/users", params={"q": "x" * 101}, headers=svc.auth())
    assert too_long.status_code == 422


async def test_organisation_search_matches_part_of_the_name_or_a_municipality(svc):
    everything = (await svc.client.get(f"{API}/organisations?limit=500")).json()["items"]
    sample = next(o for o in everything if o["municipalities"])
    word = sample["name"].split()[-1].lower()
    by_name = (
        await svc.client.get(f"{API}/organisations", params={"q": word, "limit": 500})
    ).json()
    expected = {o["id"] for o in everything if word in o["name"].lower()}
    assert expected <= {o["id"] for o in by_name["items"]}
    assert sample["id"] in {o["id"] for o in by_name["items"]}
    municipality = sample["municipalities"][-1]
    by_place = (
        await svc.client.get(f"{API}/organisations", params={"q": municipality, "limit": 500})
    ).json()
    assert sample["id"] in {o["id"] for o in by_place["items"]}
    assert by_place["total"] < len(everything)
    nothing = (await svc.client.get(f"{API}/organisations", params={"q": "_zz%"})).json()
    assert nothing == {"items": [], "total": 0, "limit": 100, "offset": 0}


async def test_staff_see_their_own_organisations_active_colleagues_for_the_contact_person(svc):
    org_a, org_b = await svc.organisation_id(12), await svc.organisation_id(13)
    staff_a = await svc.new_user(organisation_id=org_a, name="Anna Aandacht")
    colleague = await svc.new_user(organisation_id=org_a, name="Bert Bijdrage")
    leaver = await svc.new_user(organisation_id=org_a, name="Cor Vertrokken")
    await svc.new_user(organisation_id=org_b, name="Dirk Elders")
    disabled = await svc.client.patch(
        f"{API}/users/{leaver['id']}", headers=svc.auth(), json={"disabled": True}
    )
    assert disabled.status_code == 200
    token = (await svc.login(staff_a["username"], staff_a["password"])).json()["access_token"]

    own = await svc.client.get(f"{API}/organisations/{org_a}/staff", headers=svc.auth(token))
    assert own.status_code == 200, own.text
    listed = own.json()["items"]
    assert {m["id"] for m in listed} >= {staff_a["id"], colleague["id"]}
    assert leaver["id"] not in {m["id"] for m in listed}
    # Only what the choice needs: no e-mail address, no username.
    assert all(set(m) == {"id", "name"} for m in listed)
    # Another organisation's staff stay hidden (404, as for its contact person).
    other = await svc.client.get(f"{API}/organisations/{org_b}/staff", headers=svc.auth(token))
    assert other.status_code == 404
    by_admin = await svc.client.get(f"{API}/organisations/{org_b}/staff", headers=svc.auth())
    assert "Dirk Elders" in {m["name"] for m in by_admin.json()["items"]}
    unknown = await svc.client.get(f"{API}/organisations/{uuid.uuid4()}/staff", headers=svc.auth())
    assert unknown.status_code == 404


async def test_a_search_text_postgres_cannot_hold_is_refused_not_a_server_error(svc):
    for url in (f"{API}/users", f"{API}/organisations"):
        answer = await svc.client.get(url, params={"q": "a\x00b"}, headers=svc.auth())
        assert answer.status_code == 422, answer.text
