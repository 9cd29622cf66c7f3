"""Reports (the organisation's benchmark) and the public open data of closed surveys."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bibmon_web.client import Api, ApiError
from bibmon_web.pages import render

router = APIRouter(include_in_schema=False)

OPEN_DATA = "/api/reporting/open-data"
LICENCES = {
    "CC0-1.0": ("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/deed.nl"),
    "CC-BY-4.0": ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/deed.nl"),
}


def dataset_links(dataset: dict[str, Any]) -> dict[str, str]:
    """The files' public addresses through the gateway (the browser downloads them itself)."""
    base = f"{OPEN_DATA}/surveys/{dataset['survey_id']}"
    return {"csv": f"{base}.csv", "json": f"{base}.json", "dictionary": f"{base}/dictionary.json"}


@router.get("/open-data")
async def open_data(request: Request) -> Response:
    """Closed surveys with a published dataset, newest first."""
    datasets = await Api(request).get("reporting", "/open-data/surveys", authenticated=False)
    datasets = sorted(datasets, key=lambda d: str(d.get("published_at") or ""), reverse=True)
    rows = [
        {
            "dataset": d,
            "links": dataset_links(d),
            "sizes": {f["kind"]: f["byte_size"] for f in d.get("files", [])},
            "licence": LICENCES.get(str(d["licence"]), (str(d["licence"]), "")),
        }
        for d in datasets
    ]
    return render(request, "open_data.html", rows=rows, catalogue=f"{OPEN_DATA}/catalog.jsonld")


async def _has_report(api: Api, survey_id: str) -> bool:
    try:
        return bool(await api.get("reporting", f"/surveys/{survey_id}/reports"))
    except ApiError as exc:
        if exc.status in (403, 404):
            return False
        raise


async def closed_surveys(api: Api) -> list[dict[str, Any]]:
    """The organisation's closed surveys that have its report, newest first."""
    page = await api.get("surveys", "/surveys", params={"status": "closed", "limit": 100})
    closed = [s for s in page["items"] if s["status"] == "closed"]
    shown = await asyncio.gather(*(_has_report(api, str(s["id"])) for s in closed))
    with_report = [s for s, ok in zip(closed, shown, strict=True) if ok]
    return sorted(with_report, key=lambda s: str(s.get("closes_at") or ""), reverse=True)


@router.get("/rapporten/{survey_id}")
async def report(request: Request, survey_id: UUID, organisatie: UUID | None = None) -> Response:
    """The organisation's figures against Nederland, its province and its size class."""
    params = {"organisation_id": str(organisatie)} if organisatie else None
    data = await Api(request).get("reporting", f"/surveys/{survey_id}/benchmark", params=params)
    suffix = f"?organisation_id={organisatie}" if organisatie else ""
    base = f"/api/reporting/surveys/{survey_id}"
    return render(
        request,
        "report.html",
        report=data,
        key_figures=[q for s in data["sections"] for q in s["questions"] if q.get("key_figure")],
        downloads={
            "pdf": f"{base}/report.pdf{suffix}",
            "png": f"{base}/infographic.png{suffix}",
            "svg": f"{base}/infographic.svg{suffix}",
        },
    )
