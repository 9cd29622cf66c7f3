"""HTTP API of the reporting service."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from bibmon_common.app import Ctx, DbConn
from bibmon_common.auth import CurrentPrincipal
from bibmon_common.projections import list_organisations
from bibmon_reporting import reports
from bibmon_reporting.report_model import OrganisationReport

router = APIRouter()

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such report for the caller (problem+json)."}
}


class ReportListItem(BaseModel):
    organisation_id: UUID
    name: str
    province: str | None
    size_class: str | None
    submitted_at: datetime


@router.get("/organisations", tags=["open data"])
async def organisations(conn: DbConn) -> list[dict[str, Any]]:
    """Organisations known to reporting (public master data, as identity published it)."""
    return await list_organisations(conn)


@router.get(
    "/surveys/{survey_id}/benchmark",
    response_model=OrganisationReport,
    tags=["benchmarks"],
    responses=_NOT_FOUND,
)
async def benchmark(
    survey_id: UUID,
    principal: CurrentPrincipal,
    conn: DbConn,
    ctx: Ctx,
    organisation_id: UUID | None = None,
) -> OrganisationReport:
    """An organisation's figures against the nation, its province and its size class.

    Library staff: their own organisation, after the survey closed and their response
    counts. kb_admin and researcher: any organisation (`organisation_id`), live figures.
    """
    return await reports.report_for(
        conn,
        principal,
        survey_id,
        organisation_id,
        min_group_size=ctx.settings.min_group_size,
    )


@router.get(
    "/surveys/{survey_id}/reports", response_model=list[ReportListItem], tags=["benchmarks"]
)
async def survey_reports(
    survey_id: UUID, principal: CurrentPrincipal, conn: DbConn
) -> list[dict[str, Any]]:
    """Organisations with a report of this survey (library staff: their own, when visible)."""
    return await reports.list_reports(conn, principal, survey_id)
