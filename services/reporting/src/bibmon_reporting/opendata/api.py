"""Public open-data endpoints (no login): datasets of closed surveys and their catalogue."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from bibmon_common.errors import NotFound
from bibmon_reporting.deps import Deps
from bibmon_reporting.models import DatasetSummary
from bibmon_reporting.usecases import opendata

router = APIRouter(prefix="/open-data", tags=["open data"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "The survey has not closed or has no dataset yet (problem+json)."}
}
_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "dictionary": "application/json",
}
# Open data may be read by any web page, not only the web client.
_OPEN = {"Access-Control-Allow-Origin": "*"}
Version = Annotated[
    int | None, Query(ge=1, description="A published version; default: the latest.")
]


async def _file(
    request: Request, deps: Deps, survey_id: UUID, kind: str, version: int | None
) -> Response:
    found = await opendata.published_file(deps, survey_id, kind, version)
    if found is None:
        raise NotFound("Voor deze vragenlijst is (nog) geen open dataset gepubliceerd.")
    content, sha256, published_version = found.content, found.sha256, found.version
    # A pinned version never changes; the latest may be replaced by a correction.
    cache = "public, max-age=31536000, immutable" if version else "public, max-age=300"
    name = f"bibliotheekmonitor-{survey_id}-v{published_version}"
    suffix = "-woordenboek.json" if kind == "dictionary" else f".{kind}"
    etag = f'"{sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": cache,
        "X-Dataset-Version": str(published_version),
        **_OPEN,
    }
    # A harvester that has this version already gets no body again.
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(
        content,
        media_type=_MEDIA[kind],
        headers={**headers, "Content-Disposition": f'inline; filename="{name}{suffix}"'},
    )


@router.get("/surveys", response_model=list[DatasetSummary])
async def list_datasets(deps: Deps) -> list[DatasetSummary]:
    """Every closed survey with a published dataset, its latest version and files."""
    return await opendata.list_datasets(deps)


@router.get(
    "/surveys/{survey_id}.csv",
    responses={**_NOT_FOUND, 200: {"content": {"text/csv": {}}}},
    response_class=Response,
)
async def dataset_csv(
    request: Request, survey_id: UUID, deps: Deps, version: Version = None
) -> Response:
    """The dataset as CSV: one row per organisation, the public questions as columns."""
    return await _file(request, deps, survey_id, "csv", version)


@router.get(
    "/surveys/{survey_id}.json",
    responses={**_NOT_FOUND, 200: {"content": {"application/json": {}}}},
    response_class=Response,
)
async def dataset_json(
    request: Request, survey_id: UUID, deps: Deps, version: Version = None
) -> Response:
    """The dataset as JSON: metadata and one object per organisation."""
    return await _file(request, deps, survey_id, "json", version)


@router.get(
    "/surveys/{survey_id}/dictionary.json",
    responses={**_NOT_FOUND, 200: {"content": {"application/json": {}}}},
    response_class=Response,
)
async def dictionary(
    request: Request, survey_id: UUID, deps: Deps, version: Version = None
) -> Response:
    """The data dictionary: key, label, type, unit, section and series of every column."""
    return await _file(request, deps, survey_id, "dictionary", version)


@router.get(
    "/catalog.jsonld",
    responses={200: {"content": {"application/ld+json": {}}}},
    response_class=Response,
)
async def catalog(deps: Deps) -> Response:
    """DCAT-AP metadata of every published dataset, for harvesting by open-data portals."""
    return Response(
        await opendata.catalog_jsonld(deps),
        media_type="application/ld+json",
        headers={"Cache-Control": "public, max-age=300", **_OPEN},
    )
