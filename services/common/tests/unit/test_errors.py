import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from bibmon_common.errors import (
    InvalidInput,
    NotFound,
    TooManyRequests,
    field_error,
    install_error_handlers,
)
from bibmon_common.middleware import ServiceHTTP

JSON = {"content-type": "application/json"}


class Body(BaseModel):
    name: str = Field(min_length=2)
    size: int


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    async def create(body: Body) -> dict:
        if body.name == "taken":
            raise InvalidInput(errors=[field_error("name", "This name is taken.")])
        return {"ok": True}

    @app.get("/things/{thing_id}")
    async def get(thing_id: int) -> dict:
        raise NotFound("No such thing.")

    @app.get("/slow")
    async def slow() -> dict:
        raise TooManyRequests("Wait.", retry_after=7)

    @app.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("internal detail that must not leak")

    app.add_middleware(ServiceHTTP, service="test", max_bytes=100)
    return app


@pytest.fixture
def client():
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


@pytest.mark.asyncio
async def test_validation_errors_name_each_field(client):
    resp = await client.post("/things", json={"name": "x", "size": "big"})
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in resp.json()["errors"]}
    assert fields == {"name", "size"}


@pytest.mark.asyncio
async def test_domain_error_becomes_problem_json(client):
    resp = await client.post("/things", json={"name": "taken", "size": 1})
    body = resp.json()
    assert resp.status_code == 422
    assert body["errors"] == [
        {"field": "name", "message": "This name is taken.", "type": "invalid"}
    ]
    assert body["type"].endswith("/invalid-input")


@pytest.mark.asyncio
async def test_not_found_and_retry_after(client):
    assert (await client.get("/things/1")).json()["status"] == 404
    resp = await client.get("/slow")
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "7"


@pytest.mark.asyncio
async def test_unknown_route_and_method_are_problems(client):
    resp = await client.get("/nope")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/problem+json"
    assert (await client.delete("/things")).status_code == 405


@pytest.mark.asyncio
async def test_unexpected_error_hides_internals(client):
    resp = await client.get("/boom")
    assert resp.status_code == 500
    assert "internal detail" not in resp.text


@pytest.mark.asyncio
async def test_oversized_body_is_refused_with_413(client):
    resp = await client.post(
        "/things", content=b"x" * 500, headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413
    assert resp.json()["title"] == "Request body too large"


@pytest.mark.asyncio
async def test_oversized_streamed_body_without_length_is_refused(client):
    async def chunks():
        for _ in range(10):
            yield b"x" * 50

    resp = await client.post(
        "/things", content=chunks(), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413
