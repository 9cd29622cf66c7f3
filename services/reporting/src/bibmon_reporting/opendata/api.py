"""Public open-data endpoints (no login): datasets of closed surveys and their catalogue."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from bibmon_common.app import Ctx, DbConn
from bibmon_common.errors import NotFound
from bibmon_reporting.opendata import dcat
from bibmon_reporting.opendata.services import (
    OpenDataConfig,
    published_catalog,
    published_file,
)

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


class DatasetFileLink(BaseModel):
    kind: str
    url: str
    byte_size: int
    sha256: str


class DatasetSummary(BaseModel):
    survey_id: UUID
    title: str
    series_key: str | None
    year: int
    dataset_version: int
    row_count: int
    licence: str
    first_published_at: datetime
    published_at: datetime
    files: list[DatasetFileLink]


async def _file(
    request: Request, conn: DbConn, survey_id: UUID, kind: str, version: int | None
) -> Response:
    found = await published_file(conn, survey_id, kind, version)
    if found is None:
        raise NotFound("Voor deze vragenlijst is (nog) geen open dataset gepubliceerd.")
    content, sha256, published_version = found
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
async def list_datasets(conn: DbConn, ctx: Ctx) -> list[DatasetSummary]:
    """Every closed survey with a published dataset, its latest version and files."""
    base = ctx.settings.public_base_url
    return [
        DatasetSummary(
            survey_id=d.survey.survey_id,
            title=d.survey.title,
            series_key=d.survey.series_key,
            year=d.survey.year,
            dataset_version=d.version,
            row_count=d.row_count,
            licence=d.licence.id,
            first_published_at=d.issued,
            published_at=d.modified,
            files=[
                DatasetFileLink(
                    kind=f.kind,
                    url=dcat.file_url(base, d.survey.survey_id, f.kind, d.version),
                    byte_size=f.byte_size,
                    sha256=f.sha256,
                )
                for f in d.files
            ],
        )
        for d in await published_catalog(conn)
    ]


@router.get(
    "/surveys/{survey_id}.csv",
    responses={**_NOT_FOUND, 200: {"content": {"text/csv": {}}}},
    response_class=Response,
)
async def dataset_csv(
    request: Request, survey_id: UUID, conn: DbConn, version: Version = None
) -> Response:
    """The dataset as CSV: one row per organisation, the public questions as columns."""
    return await _file(request, conn, survey_id, "csv", version)


@router.get(
    "/surveys/{survey_id}.json",
    responses={**_NOT_FOUND, 200: {"content": {"application/json": {}}}},
    response_class=Response,
)
async def dataset_json(
    request: Request, survey_id: UUID, conn: DbConn, version: Version = None
) -> Response:
    """The dataset as JSON: metadata and one object per organisation."""
    return await _file(request, conn, survey_id, "json", version)


@router.get(
    "/surveys/{survey_id}/dictionary.json",
    responses={**_NOT_FOUND, 200: {"content": {"application/json": {}}}},
    response_class=Response,
)
async def dictionary(
    request: Request, survey_id: UUID, conn: DbConn, version: Version = None
) -> Response:
    """The data dictionary: key, label, type, unit, section and series of every column."""
    return await _file(request, conn, survey_id, "dictionary", version)


@router.get(
    "/catalog.jsonld",
    responses={200: {"content": {"application/ld+json": {}}}},
    response_class=Response,
)
async def catalog(conn: DbConn, ctx: Ctx) -> Response:
    """DCAT-AP metadata of every published dataset, for harvesting by open-data portals."""
    config = OpenDataConfig.from_settings(ctx.settings)
    document = dcat.catalog(
        await published_catalog(conn), base_url=config.base_url, publisher=config.publisher
    )
    return Response(
        json.dumps(document, ensure_ascii=False, indent=1).encode(),
        media_type="application/ld+json",
        headers={"Cache-Control": "public, max-age=300", **_OPEN},
    )
