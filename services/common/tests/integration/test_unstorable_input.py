"""The error handlers' backstop: a value PostgreSQL refuses is a 422, not a 500.

The queries run against a real database; nothing is faked. Request models should refuse
such values first (bibmon_common.text.PlainText, the questionnaire's number limits); this
is what the client gets when one slips through.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from structlog.testing import capture_logs

from bibmon_common.errors import InvalidInput, field_error, install_error_handlers

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

SECRET = "geheim-waarde"


class Note(BaseModel):
    text: str = ""
    data: dict[str, Any] = {}
    number: int = 0


def make_app(pool: asyncpg.Pool) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/text")
    async def store_text(note: Note) -> dict[str, Any]:
        async with pool.acquire() as conn:
            return {"stored": await conn.fetchval("SELECT $1::text", note.text)}

    @app.post("/jsonb")
    async def store_jsonb(note: Note) -> dict[str, Any]:
        async with pool.acquire() as conn:
            return {"stored": await conn.fetchval("SELECT $1::jsonb", note.data)}

    @app.post("/int4")
    async def store_int4(note: Note) -> dict[str, Any]:
        async with pool.acquire() as conn:
            return {"stored": await conn.fetchval("SELECT $1::int4", note.number)}

    @app.post("/numeric-text")
    async def cast_text(note: Note) -> dict[str, Any]:
        async with pool.acquire() as conn:
            return {"stored": await conn.fetchval("SELECT $1::text::int4", note.text)}

    @app.post("/wrong-type")
    async def programming_error(note: Note) -> dict[str, Any]:
        # A bug: text passed where the query wants an integer (asyncpg: DataError).
        async with pool.acquire() as conn:
            return {"stored": await conn.fetchval("SELECT $1::int4", note.text)}

    @app.post("/echo-field")
    async def echo(note: Note) -> dict[str, Any]:
        # A domain error naming a field the client chose (e.g. an unknown answer key).
        raise InvalidInput("Unknown field.", errors=[field_error(note.text, "Unknown field.")])

    @app.get("/timestamptz/{offset_hours}")
    async def store_time(offset_hours: int) -> dict[str, Any]:
        far = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=offset_hours)))
        async with pool.acquire() as conn:
            return {"stored": str(await conn.fetchval("SELECT $1::timestamptz", far))}

    return app


async def post(client: httpx.AsyncClient, path: str, body: Any) -> httpx.Response:
    """POST `body` as JSON with \\u escapes, so a lone surrogate travels too."""
    return await client.post(
        path, content=json.dumps(body), headers={"content-type": "application/json"}
    )


@pytest.fixture
def client(pool: asyncpg.Pool) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=make_app(pool), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/text", {"text": f"{SECRET}\u0000"}),  # CharacterNotInRepertoireError
        ("/text", {"text": f"{SECRET}\ud800"}),  # asyncpg cannot encode it
        ("/jsonb", {"data": {"k": f"{SECRET}\u0000"}}),  # UntranslatableCharacterError
        ("/jsonb", {"data": {"k": f"{SECRET}\ud800"}}),  # InvalidTextRepresentationError
        ("/int4", {"number": 10**12}),  # out of int32 range
        ("/numeric-text", {"text": SECRET}),  # invalid text representation
    ],
)
async def test_a_value_postgresql_refuses_is_a_422_problem(
    client: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    with capture_logs() as logs:
        response = await post(client, path, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"] == "The input holds a value that cannot be stored."
    assert problem["type"].endswith("/unstorable-value")
    assert SECRET not in response.text
    (entry,) = [e for e in logs if e["event"] == "http.unstorable_value"]
    assert entry["log_level"] == "warning"
    assert SECRET not in repr(entry)
    assert not any(e["log_level"] in {"error", "critical"} for e in logs)


async def test_a_time_out_of_range_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/timestamptz/14")
    assert response.status_code == 422, response.text


async def test_storable_values_still_pass(client: httpx.AsyncClient) -> None:
    assert (await client.post("/text", json={"text": "a😀b"})).json() == {"stored": "a😀b"}
    assert (await client.post("/int4", json={"number": 7})).json() == {"stored": 7}


async def test_a_wrong_type_passed_to_a_query_is_a_server_error_not_the_clients(
    client: httpx.AsyncClient,
) -> None:
    with capture_logs() as logs:
        response = await post(client, "/wrong-type", {"text": SECRET})
    assert response.status_code == 500, response.text
    assert SECRET not in response.text
    (entry,) = [e for e in logs if e["event"] == "http.unhandled_error"]
    assert entry["log_level"] == "error"
    assert SECRET not in repr(entry)


async def test_a_problem_that_echoes_a_lone_surrogate_still_renders(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, "/echo-field", {"text": "answers.k\ud800"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "answers.k\ud800"
    # Ordinary text keeps its UTF-8 form.
    plain = await post(client, "/echo-field", {"text": "antwoord.één"})
    assert plain.json()["errors"][0]["field"] == "antwoord.één"
    assert "één".encode() in plain.content
