"""Library staff: register a colleague (or oneself) as the survey's contact person.

The questionnaire page has the one-button "register myself"; this page lists the
organisation's active staff (identity's /organisations/{id}/staff: id and name only)
so anyone of the library can name whoever should receive the survey's e-mails.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bibmon_web.client import Api, ApiError
from bibmon_web.i18n import translate
from bibmon_web.pages import form_of, language, redirect, render, text
from bibmon_web.routes.questionnaires import _contact

router = APIRouter(include_in_schema=False)


async def _page(
    request: Request, api: Api, survey_id: UUID, status_code: int = 200, error: str = ""
) -> Response:
    me = await api.me()
    organisation_id = str(me["organisation_id"])
    survey = await api.get("surveys", f"/surveys/{survey_id}")
    staff = await api.get("identity", f"/organisations/{organisation_id}/staff")
    contact = await _contact(api, str(survey_id), organisation_id)
    return render(
        request,
        "contact_person.html",
        status_code,
        survey=survey,
        colleagues=colleagues_of(staff["items"], str(me["id"])),
        me_id=str(me["id"]),
        contact=contact,
        error=error,
    )


@router.get("/vragenlijsten/{survey_id}/contactpersoon")
async def contact_person_page(request: Request, survey_id: UUID) -> Response:
    return await _page(request, Api(request), survey_id)


@router.post("/vragenlijsten/{survey_id}/contactpersoon/collega")
async def register_colleague(request: Request, survey_id: UUID) -> Response:
    form = await form_of(request)
    api = Api(request)
    me = await api.me()
    chosen = text(form, "user_id")
    try:
        UUID(chosen)
    except ValueError:
        message = translate(language(request), "Kies wie de contactpersoon wordt.")
        return await _page(request, api, survey_id, 422, message)
    try:
        await api.call(
            "PUT",
            "identity",
            f"/surveys/{survey_id}/contacts/{me['organisation_id']}",
            json={"user_id": chosen},
        )
    except ApiError as exc:
        if exc.status != 422:
            raise
        message = translate(
            language(request),
            "Deze persoon kan geen contactpersoon worden: alleen actieve medewerkers van uw "
            "bibliotheek kunnen dat.",
        )
        return await _page(request, api, survey_id, 422, message)
    return redirect(request, f"/vragenlijsten/{survey_id}?contactpersoon=1")


def colleagues_of(items: list[dict[str, Any]], me_id: str) -> list[dict[str, Any]]:
    """The list with the person themself first."""
    return sorted(items, key=lambda m: (str(m["id"]) != me_id, str(m["name"]).lower()))
