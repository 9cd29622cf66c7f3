"""Every answer to a request with credentials says `Cache-Control: no-store` (ASVS 14.3.2)."""

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Response

from bibmon_common.app import create_service_app
from bibmon_common.settings import ServiceSettings

router = APIRouter()


@router.get("/mine")
async def mine() -> dict[str, str]:
    return {"secret": "of the caller"}


@router.get("/public")
async def public(response: Response) -> dict[str, str]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return {"open": "data"}


def client() -> httpx.AsyncClient:
    app = create_service_app(
        ServiceSettings(log_json=False, log_level="WARNING"),
        service="probe",
        title="probe",
        routers=[router],
        migrations_dir=Path("."),
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "credentials",
    [{"Authorization": "Bearer x.y.z"}, {"Cookie": "__Host-bibmon_access=x.y.z"}],
)
@pytest.mark.parametrize("path", ["/api/probe/mine", "/api/probe/public", "/api/probe/nothing"])
async def test_answers_to_requests_with_credentials_are_never_stored(credentials, path):
    async with client() as c:
        answer = await c.get(path, headers=credentials)
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.asyncio
async def test_anonymous_answers_default_to_no_store_unless_the_route_allows_caching():
    async with client() as c:
        mine = await c.get("/api/probe/mine")
        public = await c.get("/api/probe/public")
        missing = await c.get("/api/probe/nothing")
    assert mine.headers["cache-control"] == "no-store"
    assert missing.headers["cache-control"] == "no-store"
    assert public.headers["cache-control"] == "public, max-age=300"
