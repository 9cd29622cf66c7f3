"""KB administrators: users and organisations, over identity's /users and /organisations.

Every action is a plain form post (works without JavaScript) answered with a redirect
(303) to the page that shows the result, or the same form with the API's field errors.
"""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from bibmon_web.client import Api, ApiError
from bibmon_web.i18n import translate
from bibmon_web.pages import form_of, language, redirect, render, text
from bibmon_web.problems import field_errors, message_for
from bibmon_web.routes.public import organisations as all_organisations

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
ROLE_LABELS = {
    "library_staff": "Bibliotheekmedewerker",
    "researcher": "Onderzoeker",
    "kb_admin": "KB-beheerder",
}
USER_FIELDS = {"username": "username", "name": "name", "email": "email", "roles": "roles"}
USER_FIELDS |= {"organisation_id": "organisation_id"}
ORG_FIELDS = {
    "name": "name",
    "province": "province",
    "municipalities": "municipalities",
    "inhabitants": "inhabitants",
    "source": "source",
    "primary_contact_user_id": "primary_contact_user_id",
}
Page = Query(1, ge=1, le=10_000, alias="pagina")
Search = Query("", max_length=100, alias="zoek")


def pager(page: int, total: int) -> dict[str, int]:
    """Which page of how many (at least one), and the API's offset for it."""
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return {"page": page, "pages": pages, "total": total, "offset": (page - 1) * PAGE_SIZE}


def _errors(request: Request, exc: ApiError, fields: dict[str, str]) -> dict[str, str]:
    """Field errors of a 422, or the problem's detail (409 and others) under `_form`."""
    errors = field_errors(language(request), exc, fields)
    if not errors:
        first = exc.errors[0] if exc.errors else None
        errors["_form"] = message_for(language(request), first) if first else exc.detail
    return errors


# -- users -------------------------------------------------------------------------------
@router.get("/beheer/gebruikers")
async def users(request: Request, zoek: str = Search, pagina: int = Page) -> Response:
    api = Api(request)
    await api.me()
    first = pager(pagina, 0)
    params: dict[str, Any] = {"limit": PAGE_SIZE, "offset": first["offset"]}
    if zoek.strip():
        params["q"] = zoek.strip()
    found = await api.get("identity", "/users", params=params)
    return render(
        request,
        "admin/users.html",
        users=found["items"],
        paging=pager(pagina, found["total"]),
        query=zoek.strip(),
        role_labels=ROLE_LABELS,
    )


def _user_values(form: FormData) -> dict[str, Any]:
    return {
        "username": text(form, "username"),
        "name": text(form, "name"),
        "email": text(form, "email"),
        "roles": [r for r in form.getlist("roles") if isinstance(r, str) and r in ROLE_LABELS],
        "organisation_id": text(form, "organisation_id"),
    }


async def _user_form(
    request: Request,
    api: Api,
    template: str,
    status_code: int = 200,
    **values: Any,
) -> Response:
    return render(
        request,
        template,
        status_code,
        organisations=await all_organisations(api),
        role_labels=ROLE_LABELS,
        **values,
    )


@router.get("/beheer/gebruikers/nieuw")
async def new_user_page(request: Request) -> Response:
    api = Api(request)
    await api.me()
    values = {"roles": ["library_staff"], "organisation_id": ""}
    return await _user_form(request, api, "admin/user_new.html", values=values, errors={})


@router.post("/beheer/gebruikers/nieuw")
async def create_user(request: Request) -> Response:
    form = await form_of(request)
    api = Api(request)
    values = _user_values(form)
    body: dict[str, Any] = {
        "name": values["name"],
        "email": values["email"],
        "roles": values["roles"],
        "organisation_id": values["organisation_id"] or None,
    }
    if values["username"]:
        body["username"] = values["username"]
    try:
        created = await api.call("POST", "identity", "/users", json=body)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        await api.me()
        return await _user_form(
            request,
            api,
            "admin/user_new.html",
            exc.status,
            values=values,
            errors=_errors(request, exc, USER_FIELDS),
        )
    return redirect(request, f"/beheer/gebruikers/{created['id']}?klaar=aangemaakt")


async def _user_page(
    request: Request,
    api: Api,
    user: dict[str, Any],
    status_code: int = 200,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    done: str = "",
) -> Response:
    await api.me()
    current = {
        "name": user["name"],
        "email": user["email"] or "",
        "roles": list(user["roles"]),
        "organisation_id": str(user["organisation_id"] or ""),
    }
    return await _user_form(
        request,
        api,
        "admin/user.html",
        status_code,
        user=user,
        values=values or current,
        errors=errors or {},
        done=done,
    )


@router.get("/beheer/gebruikers/{user_id}")
async def user_page(request: Request, user_id: UUID, klaar: str = "") -> Response:
    api = Api(request)
    user = await api.get("identity", f"/users/{user_id}")
    return await _user_page(request, api, user, done=klaar)


@router.post("/beheer/gebruikers/{user_id}")
async def update_user(request: Request, user_id: UUID) -> Response:
    form = await form_of(request)
    api = Api(request)
    user = await api.get("identity", f"/users/{user_id}")
    values = _user_values(form)
    # Only what changed: an unchanged e-mail address must not end the person's sessions.
    changes: dict[str, Any] = {}
    if values["name"] != user["name"]:
        changes["name"] = values["name"]
    if values["email"] != (user["email"] or ""):
        changes["email"] = values["email"]
    if sorted(values["roles"]) != sorted(user["roles"]):
        changes["roles"] = values["roles"]
    if values["organisation_id"] != str(user["organisation_id"] or ""):
        changes["organisation_id"] = values["organisation_id"] or None
    if not changes:
        return redirect(request, f"/beheer/gebruikers/{user_id}?klaar=ongewijzigd")
    try:
        await api.call("PATCH", "identity", f"/users/{user_id}", json=changes)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return await _user_page(
            request,
            api,
            user,
            exc.status,
            values=values,
            errors=_errors(request, exc, USER_FIELDS),
        )
    return redirect(request, f"/beheer/gebruikers/{user_id}?klaar=opgeslagen")


@router.post("/beheer/gebruikers/{user_id}/status")
async def set_user_status(request: Request, user_id: UUID) -> Response:
    form = await form_of(request)
    api = Api(request)
    action = text(form, "actie")
    if action == "uitschakelen":
        body: dict[str, Any] = {"disabled": True}
    elif action == "inschakelen":
        body = {"disabled": False}
    elif action == "tweestaps-herstellen":
        body = {"reset_mfa": True}
    else:
        return redirect(request, f"/beheer/gebruikers/{user_id}")
    try:
        await api.call("PATCH", "identity", f"/users/{user_id}", json=body)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        user = await api.get("identity", f"/users/{user_id}")
        return await _user_page(
            request, api, user, exc.status, errors=_errors(request, exc, USER_FIELDS)
        )
    return redirect(request, f"/beheer/gebruikers/{user_id}?klaar={action}")


@router.get("/beheer/gebruikers/{user_id}/verwijderen")
async def delete_user_page(request: Request, user_id: UUID) -> Response:
    api = Api(request)
    await api.me()
    user = await api.get("identity", f"/users/{user_id}")
    return render(request, "admin/user_delete.html", user=user)


@router.post("/beheer/gebruikers/{user_id}/verwijderen")
async def delete_user(request: Request, user_id: UUID) -> Response:
    await form_of(request)
    api = Api(request)
    await api.call("DELETE", "identity", f"/users/{user_id}")
    return redirect(request, "/beheer/gebruikers?klaar=verwijderd")


# -- organisations -----------------------------------------------------------------------
@router.get("/beheer/organisaties")
async def organisations(request: Request, zoek: str = Search, pagina: int = Page) -> Response:
    api = Api(request)
    await api.me()
    params: dict[str, Any] = {"limit": PAGE_SIZE, "offset": pager(pagina, 0)["offset"]}
    if zoek.strip():
        params["q"] = zoek.strip()
    found = await api.get("identity", "/organisations", params=params)
    return render(
        request,
        "admin/organisations.html",
        organisations=found["items"],
        paging=pager(pagina, found["total"]),
        query=zoek.strip(),
    )


def _organisation_values(organisation: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": organisation["name"],
        "province": organisation["province"],
        "municipalities": "\n".join(organisation["municipalities"]),
        "inhabitants": str(organisation["inhabitants"]),
        "source": organisation["source"] or "",
        "primary_contact_user_id": str(organisation["primary_contact_user_id"] or ""),
    }


async def _organisation_page(
    request: Request,
    api: Api,
    organisation: dict[str, Any],
    status_code: int = 200,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    done: str = "",
) -> Response:
    await api.me()
    members = await api.get(
        "identity", "/users", params={"organisation_id": organisation["id"], "limit": 100}
    )
    return render(
        request,
        "admin/organisation.html",
        status_code,
        organisation=organisation,
        members=members["items"],
        values=values or _organisation_values(organisation),
        errors=errors or {},
        done=done,
        role_labels=ROLE_LABELS,
    )


@router.get("/beheer/organisaties/{organisation_id}")
async def organisation_page(request: Request, organisation_id: UUID, klaar: str = "") -> Response:
    api = Api(request)
    organisation = await api.get("identity", f"/organisations/{organisation_id}")
    return await _organisation_page(request, api, organisation, done=klaar)


@router.post("/beheer/organisaties/{organisation_id}")
async def update_organisation(request: Request, organisation_id: UUID) -> Response:
    form = await form_of(request)
    api = Api(request)
    organisation = await api.get("identity", f"/organisations/{organisation_id}")
    values = {name: text(form, name) for name in ORG_FIELDS}
    current = _organisation_values(organisation)
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in ("name", "province"):
        if values[name] != current[name]:
            changes[name] = values[name]
    places = [p.strip() for p in values["municipalities"].replace(",", "\n").splitlines()]
    places = [p for p in places if p]
    if places != organisation["municipalities"]:
        changes["municipalities"] = places
    inhabitants = values["inhabitants"].replace(".", "").replace(" ", "")
    if inhabitants != current["inhabitants"]:
        if inhabitants.isdigit():
            changes["inhabitants"] = int(inhabitants)
        else:
            errors["inhabitants"] = translate(language(request), "Vul een geheel getal in.")
    if values["source"] != current["source"]:
        changes["source"] = values["source"] or None
    if values["primary_contact_user_id"] != current["primary_contact_user_id"]:
        changes["primary_contact_user_id"] = values["primary_contact_user_id"] or None
    if errors:
        return await _organisation_page(
            request, api, organisation, 422, values=values, errors=errors
        )
    if not changes:
        return redirect(request, f"/beheer/organisaties/{organisation_id}?klaar=ongewijzigd")
    try:
        await api.call("PATCH", "identity", f"/organisations/{organisation_id}", json=changes)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return await _organisation_page(
            request,
            api,
            organisation,
            exc.status,
            values=values,
            errors=_errors(request, exc, ORG_FIELDS),
        )
    return redirect(request, f"/beheer/organisaties/{organisation_id}?klaar=opgeslagen")
