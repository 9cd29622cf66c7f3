"""What every repository module shares: the connection type, row conversion, SQL helpers."""

# SQL text here is assembled only from constants and column names checked against
# allow-lists; every value is a bind parameter.

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A plain connection or one borrowed from the pool; both behave the same.
Conn = asyncpg.Connection | PoolConnectionProxy

R = TypeVar("R")


def one(record: type[R], row: asyncpg.Record | None) -> R | None:
    """A row as its typed record (a dataclass whose fields are the selected columns)."""
    return None if row is None else record(**dict(row))


def each(record: type[R], rows: Iterable[asyncpg.Record]) -> list[R]:
    """Rows as typed records."""
    return [record(**dict(row)) for row in rows]


def assignments(fields: dict[str, Any], allowed: frozenset[str]) -> str:
    """`column = $2, …` of an UPDATE whose $1 is the row id; names come from code, not input."""
    assert set(fields) <= allowed
    return ", ".join(f"{column} = ${i}" for i, column in enumerate(fields, start=2))


def affected_rows(status: str) -> int:
    """The row count of asyncpg's command status (`DELETE 3` -> 3)."""
    return int(status.split()[-1])


async def advisory_xact_lock(conn: Conn, key: int) -> None:
    """Wait for a transaction-scoped advisory lock (one replica at a time does the work)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", key)


def like_pattern(text: str | None) -> str | None:
    """A case-insensitive `contains` pattern for ILIKE (its wildcards taken literally)."""
    if not text:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
