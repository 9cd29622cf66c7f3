"""HTTP API of the rendered documents: an organisation's infographic and report as files."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Query, Response

from bibmon_common.app import ServiceContext
from bibmon_common.auth import CurrentPrincipal
from bibmon_reporting.deps import Deps, ReportingDeps
from bibmon_reporting.documents.renderer import MEDIA_TYPES, Kind, Locale
from bibmon_reporting.rendering import warm_up
from bibmon_reporting.usecases import documents

log = structlog.get_logger(__name__)

router = APIRouter(tags=["reports"])

_ATTACHMENT: frozenset[Kind] = frozenset({"png", "pdf"})


def _responses(kind: Kind) -> dict[int | str, dict[str, Any]]:
    media = MEDIA_TYPES[kind].split(";")[0]
    schema = (
        {"type": "string"} if kind in ("svg", "html") else {"type": "string", "format": "binary"}
    )
    return {
        200: {"content": {media: {"schema": schema}}, "description": f"The {kind.upper()}."},
        404: {"description": "No such report for the caller (problem+json)."},
        422: {"description": "kb_admin or researcher without organisation_id, or an unknown lang."},
    }


async def _serve(
    deps: ReportingDeps,
    principal: Any,
    survey_id: UUID,
    organisation_id: UUID | None,
    kind: Kind,
    lang: Locale,
) -> Response:
    document = await documents.document_for(deps, principal, survey_id, organisation_id, kind, lang)
    disposition = "attachment" if kind in _ATTACHMENT else "inline"
    return Response(
        content=document.body,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{document.filename}"',
            "Content-Language": lang,
            "X-Content-Type-Options": "nosniff",
        },
    )


OrganisationParam = Query(
    default=None, description="kb_admin and researcher: the organisation (required for them)."
)
LangParam = Query(default="nl", description="Language of the texts: nl (default) or en.")


@router.get(
    "/surveys/{survey_id}/infographic.svg",
    response_class=Response,
    responses=_responses("svg"),
)
async def infographic_svg(
    survey_id: UUID,
    principal: CurrentPrincipal,
    deps: Deps,
    organisation_id: UUID | None = OrganisationParam,
    lang: Locale = LangParam,
) -> Response:
    """The organisation's infographic as SVG, with a text alternative; access as the benchmark."""
    return await _serve(deps, principal, survey_id, organisation_id, "svg", lang)


@router.get(
    "/surveys/{survey_id}/infographic.png",
    response_class=Response,
    responses=_responses("png"),
)
async def infographic_png(
    survey_id: UUID,
    principal: CurrentPrincipal,
    deps: Deps,
    organisation_id: UUID | None = OrganisationParam,
    lang: Locale = LangParam,
) -> Response:
    """The organisation's infographic as PNG; same access as the benchmark."""
    return await _serve(deps, principal, survey_id, organisation_id, "png", lang)


@router.get(
    "/surveys/{survey_id}/report.pdf",
    response_class=Response,
    responses=_responses("pdf"),
)
async def report_pdf(
    survey_id: UUID,
    principal: CurrentPrincipal,
    deps: Deps,
    organisation_id: UUID | None = OrganisationParam,
    lang: Locale = LangParam,
) -> Response:
    """The organisation's report (rapportage) as a tagged A4 PDF; same access as the benchmark."""
    return await _serve(deps, principal, survey_id, organisation_id, "pdf", lang)


@router.get(
    "/surveys/{survey_id}/report.html",
    response_class=Response,
    responses=_responses("html"),
)
async def report_html(
    survey_id: UUID,
    principal: CurrentPrincipal,
    deps: Deps,
    organisation_id: UUID | None = OrganisationParam,
    lang: Locale = LangParam,
) -> Response:
    """The organisation's report as a standalone HTML page; same access as the benchmark."""
    return await _serve(deps, principal, survey_id, organisation_id, "html", lang)


async def start_warm_up(ctx: ServiceContext[ReportingDeps]) -> None:
    """Load the renderers' engines in a background thread, so no request pays for it."""

    async def run() -> None:
        try:
            await asyncio.to_thread(warm_up)
            log.info("rendering.warmed_up")
        except Exception:  # a host without fonts still serves everything but documents
            log.exception("rendering.warm_up_failed")

    ctx.spawn(run(), name="reporting-render-warm-up")
