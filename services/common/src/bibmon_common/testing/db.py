"""Throw-away databases on the real PostgreSQL server, built by the real migrations."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from bibmon_common.db import migrate

ADMIN_DSN = os.environ.get("BIBMON_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _with_database(dsn: str, database: str) -> str:
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{database}"


@contextlib.asynccontextmanager
async def fresh_database(
    prefix: str, *, migrations_dir: Path | None = None, admin_dsn: str = ADMIN_DSN
) -> AsyncIterator[str]:
    """Create `<prefix>_<random>`, migrate it if asked, yield its DSN, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = _with_database(admin_dsn, name)
    try:
        if migrations_dir is not None:
            await migrate(migrations_dir, dsn)
        yield dsn
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
