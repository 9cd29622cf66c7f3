"""The raw baseline of bench/save_path.py: a bare FastAPI + asyncpg draft save.

One optimistic `UPDATE … WHERE version = $n` per save, nothing else: no token, no
validation, no answers history, no plausibility. Served by uvicorn like the platform
(`uvicorn save_path_raw:app --app-dir bench`), database from BIBMON_BENCH_RAW_DSN.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

DDL = """
CREATE TABLE IF NOT EXISTS raw_response (
    survey_id        uuid NOT NULL,
    organisation_id  uuid NOT NULL,
    version          integer NOT NULL DEFAULT 0,
    answers          jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (survey_id, organisation_id)
)
"""


class SaveIn(BaseModel):
    answers: dict[str, Any]
    version: int


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        os.environ["BIBMON_BENCH_RAW_DSN"], min_size=1, max_size=10
    )
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.put("/raw/surveys/{survey_id}/response/{organisation_id}")
async def save(survey_id: UUID, organisation_id: UUID, body: SaveIn) -> Any:
    async with app.state.pool.acquire() as conn:
        version = await conn.fetchval(
            "UPDATE raw_response SET answers = answers || $3::jsonb, version = version + 1,"
            " updated_at = now() WHERE survey_id = $1 AND organisation_id = $2"
            " AND version = $4 RETURNING version",
            survey_id,
            organisation_id,
            json.dumps(body.answers),
            body.version,
        )
        if version is None:  # someone else saved: tell the client the current version
            current = await conn.fetchval(
                "SELECT version FROM raw_response WHERE survey_id = $1 AND organisation_id = $2",
                survey_id,
                organisation_id,
            )
            return JSONResponse({"version": current, "conflict": True}, status_code=409)
    return {"version": version}
