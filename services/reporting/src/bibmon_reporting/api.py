"""HTTP API of the reporting service."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from bibmon_common.auth import CurrentPrincipal
from bibmon_reporting.deps import Deps
from bibmon_reporting.models import ReportListItem
from bibmon_reporting.report_model import OrganisationReport
from bibmon_reporting.usecases import read_models, reports

router = APIRouter()

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such report for the caller (problem+json)."}
}


@router.get("/organisations", tags=["open data"])
async def organisations(deps: Deps) -> list[dict[str, Any]]:
    """Organisations known to reporting (public master data, as identity published it)."""
    # The published schema stays the untyped list it has always been (the OpenAPI document
    # is a contract); the use case answers typed rows.
    return [o.model_dump() for o in await read_models.organisations(deps)]


@router.get(
    "/surveys/{survey_id}/benchmark",
    response_model=OrganisationReport,
    tags=["benchmarks"],
    responses=_NOT_FOUND,
)
async def benchmark(
    survey_id: UUID,
    principal: CurrentPrincipal,
    deps: Deps,
    organisation_id: UUID | None = None,
) -> OrganisationReport:
    """An organisation's figures against the nation, its province and its size class.

    Library staff: their own organisation, after the survey closed and their response
    counts. kb_admin and researcher: any organisation (`organisation_id`), live figures.
    """
    return await reports.report_for(deps, principal, survey_id, organisation_id)


@router.get(
    "/surveys/{survey_id}/reports", response_model=list[ReportListItem], tags=["benchmarks"]
)
async def survey_reports(
    survey_id: UUID, principal: CurrentPrincipal, deps: Deps
) -> list[ReportListItem]:
    """Organisations with a report of this survey (library staff: their own, when visible)."""
    return await reports.list_reports(deps, principal, survey_id)
