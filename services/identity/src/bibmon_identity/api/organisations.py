"""Organisations (public to read) and contact persons."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, status

from bibmon_common.auth import CurrentPrincipal, KbAdmin
from bibmon_common.errors import DomainError, InvalidInput, field_error
from bibmon_identity.api.params import Limit, Offset, Origin
from bibmon_identity.deps import Deps
from bibmon_identity.domain.organisations import SizeClass
from bibmon_identity.models import (
    ContactIn,
    ContactOut,
    ImportOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPage,
    OrganisationPatch,
    StaffPage,
)
from bibmon_identity.usecases import contacts, organisations

router = APIRouter()


@router.get(
    "/organisations",
    response_model=OrganisationPage,
    tags=["organisations"],
    summary="Library organisations (public master data)",
)
async def list_organisations(
    deps: Deps,
    province: Annotated[str | None, Query(max_length=100)] = None,
    size_class: SizeClass | None = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Part of the name or of a municipality")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> OrganisationPage:
    """No login needed: the account request form lists them."""
    return await organisations.list_organisations(
        deps,
        province=province,
        size_class=size_class.value if size_class else None,
        limit=limit,
        offset=offset,
        q=q or None,
    )


@router.post(
    "/organisations",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationOut,
    tags=["organisations"],
)
async def create_organisation(
    body: OrganisationIn, principal: KbAdmin, deps: Deps, origin: Origin
) -> OrganisationOut:
    """Register an organisation (kb_admin)."""
    return await organisations.create_organisation(
        deps, body, actor=principal.user_id, origin=origin
    )


@router.post(
    "/organisations/import",
    response_model=ImportOut,
    tags=["organisations"],
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_organisations(
    request: Request, principal: KbAdmin, deps: Deps, origin: Origin
) -> ImportOut:
    """CSV `name,province,municipalities,inhabitants,source`; matched by name."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in {"text/csv", "text/plain"}:
        raise DomainError(
            "Send the file as text/csv.",
            status=415,
            title="Unsupported media type",
            type_="unsupported-media-type",
        )
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        message = "The file must be UTF-8 text."
        raise InvalidInput(message, errors=[field_error("body", message, "encoding")]) from exc
    return await organisations.import_csv(deps, text, actor=principal.user_id, origin=origin)


@router.get(
    "/organisations/{organisation_id}", response_model=OrganisationOut, tags=["organisations"]
)
async def get_organisation(organisation_id: UUID, deps: Deps) -> OrganisationOut:
    """One organisation (public)."""
    return await organisations.get_organisation(deps, organisation_id)


@router.patch(
    "/organisations/{organisation_id}", response_model=OrganisationOut, tags=["organisations"]
)
async def update_organisation(
    organisation_id: UUID,
    body: OrganisationPatch,
    principal: KbAdmin,
    deps: Deps,
    origin: Origin,
) -> OrganisationOut:
    """Change an organisation (kb_admin)."""
    changes = {
        k: v
        for k, v in body.model_dump(exclude_unset=True).items()
        if v is not None or k in {"source", "primary_contact_user_id"}
    }
    return await organisations.update_organisation(
        deps, organisation_id, changes, actor=principal.user_id, origin=origin
    )


@router.get(
    "/organisations/{organisation_id}/staff",
    response_model=StaffPage,
    tags=["contact persons"],
    summary="The organisation's active library staff (who may be contact person)",
)
async def list_staff(organisation_id: UUID, principal: CurrentPrincipal, deps: Deps) -> StaffPage:
    """Id and name of each active staff member (kb_admin: any organisation; staff: their own)."""
    return await contacts.colleagues(deps, principal, organisation_id)


@router.get(
    "/surveys/{survey_id}/contacts/{organisation_id}",
    response_model=ContactOut,
    tags=["contact persons"],
)
async def get_contact(
    survey_id: UUID, organisation_id: UUID, principal: CurrentPrincipal, deps: Deps
) -> ContactOut:
    """The contact person (kb_admin: any organisation; staff: their own)."""
    return await contacts.get_contact(deps, principal, survey_id, organisation_id)


@router.put(
    "/surveys/{survey_id}/contacts/{organisation_id}",
    response_model=ContactOut,
    tags=["contact persons"],
)
async def put_contact(
    survey_id: UUID,
    organisation_id: UUID,
    body: ContactIn,
    principal: CurrentPrincipal,
    deps: Deps,
    origin: Origin,
) -> ContactOut:
    """Register a staff member of the organisation as contact person for the survey."""
    return await contacts.assign_contact(
        deps, principal, survey_id, organisation_id, body.user_id, origin=origin
    )
