"""The internal recipient endpoint the notifier asks at send time (service token only).

Its token is signed with `recipient_token_secret`, shared with the notifier alone; the
`service_token_secret` every service holds is not enough to get an address.
"""

import time
import uuid

import pytest

from bibmon_common.auth import service_token

API = "/api/identity"
INTERNAL = "/internal/identity"
pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def _secret(svc) -> str:
    return svc.deps.settings.recipient_token_secret.get_secret_value()


def _service(svc, service: str = "notifier", **kwargs) -> dict[str, str]:
    return {"Authorization": f"Service {service_token(_secret(svc), service, **kwargs)}"}


def _path(survey_id, organisation_id) -> str:
    return f"{INTERNAL}/surveys/{survey_id}/contacts/{organisation_id}/recipient"


async def _recipient(svc, survey_id, organisation_id):
    return await svc.client.get(_path(survey_id, organisation_id), headers=_service(svc))


async def _set_primary(svc, organisation_id, user_id) -> None:
    patched = await svc.client.patch(
        f"{API}/organisations/{organisation_id}",
        headers=svc.auth(),
        json={"primary_contact_user_id": user_id},
    )
    assert patched.status_code == 200, patched.text


async def _assign(svc, survey_id, organisation_id, user_id) -> None:
    put = await svc.client.put(
        f"{API}/surveys/{survey_id}/contacts/{organisation_id}",
        headers=svc.auth(),
        json={"user_id": user_id},
    )
    assert put.status_code == 200, put.text


async def test_recipient_endpoint_needs_a_fresh_genuine_service_token(svc):
    survey_id, organisation_id = uuid.uuid4(), await svc.organisation_id(3)
    path = _path(survey_id, organisation_id)
    bearer = {"Authorization": f"Bearer {svc.admin_token}"}
    forged = {"Authorization": f"Service {service_token('another secret', 'notifier')}"}
    expired = _service(svc, now=time.time() - 3600)

    for headers in ({}, bearer, forged, expired, {"Authorization": "Service nonsense"}):
        answer = await svc.client.get(path, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["content-type"].startswith("application/problem+json")
    other_service = await svc.client.get(path, headers=_service(svc, "surveys"))
    assert other_service.status_code == 403
    # Only the notifier's name gets through, and only with the recipient secret (the
    # demo staff member is the organisation's primary contact):
    assert (await svc.client.get(path, headers=_service(svc))).status_code == 200
    # Not under /api, so the gateway (which routes /api/identity/) never reaches it ...
    via_api = await svc.client.get(f"{API}{path.removeprefix('/internal/identity')}")
    assert via_api.status_code == 404
    # ... and not in the public OpenAPI document.
    openapi = (await svc.client.get(f"{API}/openapi.json")).json()
    assert not any(p.startswith("/internal") for p in openapi["paths"])


async def test_survey_contact_beats_primary_contact_and_primary_is_the_fallback(svc):
    organisation_id = await svc.organisation_id(4)
    primary = await svc.new_user(organisation_id=organisation_id)
    contact = await svc.new_user(organisation_id=organisation_id)
    await _set_primary(svc, organisation_id, primary["id"])
    survey_with_contact, survey_without = uuid.uuid4(), uuid.uuid4()
    await _assign(svc, survey_with_contact, organisation_id, contact["id"])
    english = await svc.client.patch(
        f"{API}/users/{contact['id']}", headers=svc.auth(), json={"locale": "en"}
    )
    assert english.status_code == 200, english.text
    assert english.json()["locale"] == "en"

    registered = await _recipient(svc, survey_with_contact, organisation_id)
    fallback = await _recipient(svc, survey_without, organisation_id)

    assert registered.status_code == 200, registered.text
    assert registered.json() == {
        "user_id": contact["id"],
        "email": contact["email"],
        "name": contact["name"],
        "locale": "en",
        "source": "survey_contact",
    }
    assert fallback.status_code == 200
    assert fallback.json()["user_id"] == primary["id"]
    assert fallback.json()["email"] == primary["email"]
    assert fallback.json()["locale"] == "nl"
    assert fallback.json()["source"] == "primary_contact"


async def test_disabled_contact_falls_back_and_disabled_primary_means_404(svc):
    organisation_id = await svc.organisation_id(5)
    primary = await svc.new_user(organisation_id=organisation_id)
    contact = await svc.new_user(organisation_id=organisation_id)
    await _set_primary(svc, organisation_id, primary["id"])
    survey_id = uuid.uuid4()
    await _assign(svc, survey_id, organisation_id, contact["id"])

    for user in (contact, primary):
        disabled = await svc.client.patch(
            f"{API}/users/{user['id']}", headers=svc.auth(), json={"disabled": True}
        )
        assert disabled.status_code == 200, disabled.text
        if user is contact:
            answer = await _recipient(svc, survey_id, organisation_id)
            assert answer.json()["user_id"] == primary["id"]

    nobody = await _recipient(svc, survey_id, organisation_id)
    assert nobody.status_code == 404
    assert "email" not in nobody.text


async def test_organisation_without_any_contact_answers_404(svc):
    organisation_id = await svc.organisation_id(6)
    # Demo data makes a staff member every organisation's primary contact: clear it.
    cleared = await svc.client.patch(
        f"{API}/organisations/{organisation_id}",
        headers=svc.auth(),
        json={"primary_contact_user_id": None},
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["primary_contact_user_id"] is None
    answer = await _recipient(svc, uuid.uuid4(), organisation_id)
    unknown = await _recipient(svc, uuid.uuid4(), uuid.uuid4())

    assert answer.status_code == 404
    assert unknown.status_code == 404


async def test_the_secret_every_service_holds_cannot_claim_to_be_the_notifier(svc):
    """A compromised service signs "notifier" with the general service secret: 401."""
    settings = svc.deps.settings
    general = settings.service_token_secret.get_secret_value()
    assert general != settings.recipient_token_secret.get_secret_value()
    organisation_id = await svc.organisation_id(7)
    primary = await svc.new_user(organisation_id=organisation_id)
    await _set_primary(svc, organisation_id, primary["id"])
    path = _path(uuid.uuid4(), organisation_id)

    posing = {"Authorization": f"Service {service_token(general, 'notifier')}"}
    refused = await svc.client.get(path, headers=posing)
    genuine = await svc.client.get(path, headers=_service(svc))

    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert primary["email"] not in refused.text
    assert genuine.status_code == 200, genuine.text
    assert genuine.json()["email"] == primary["email"]
