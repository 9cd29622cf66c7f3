"""HTTP API of the reporting service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from bibmon_common.app import DbConn
from bibmon_common.projections import list_organisations

router = APIRouter(tags=["open data"])


@router.get("/organisations")
async def organisations(conn: DbConn) -> list[dict[str, Any]]:
    """Organisations known to reporting (public master data, as identity published it)."""
    return await list_organisations(conn)
