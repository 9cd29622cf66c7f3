"""asyncpg pool and per-service Alembic migrations (raw SQL, one history per service)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import structlog

log = structlog.get_logger(__name__)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # JSONB/JSON columns take and give Python objects, never pre-serialised strings.
    for typename in ("jsonb", "json"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, connect_timeout: float = 10.0
) -> asyncpg.Pool:
    """Open a pool whose connections map JSONB to Python objects."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        timeout=connect_timeout,
        command_timeout=60,
    )
    assert pool is not None
    return pool


# Background work (consumers, the outbox relay) may hold at most the pool's size minus
# this many connections at once, so HTTP requests and readiness always find one: a burst
# of consumers (up to 16 prefetched messages each) would otherwise take them all.
REQUEST_RESERVE = 5
# Keyed by id(): asyncpg pools take no attributes and no weak references.
_background_limits: dict[int, tuple[asyncpg.Pool, asyncio.Semaphore, int]] = {}


def reserve_for_requests(pool: asyncpg.Pool, connections: int = REQUEST_RESERVE) -> int:
    """Bound background_connection() on `pool` to leave `connections` free; return the bound."""
    limit = max(1, pool.get_max_size() - connections)
    _background_limits[id(pool)] = (pool, asyncio.Semaphore(limit), limit)
    return limit


def background_limit(pool: asyncpg.Pool) -> int:
    """How many connections background work may hold on `pool` at once."""
    entry = _background_limits.get(id(pool))
    if entry is None or entry[0] is not pool:
        return int(pool.get_max_size())
    return entry[2]


def forget_reservation(pool: asyncpg.Pool) -> None:
    """Drop the bound of a pool that is closing."""
    _background_limits.pop(id(pool), None)


@contextlib.asynccontextmanager
async def background_connection(pool: asyncpg.Pool) -> AsyncIterator[Any]:
    """A pooled connection for background work, within the pool's background bound."""
    entry = _background_limits.get(id(pool))
    if entry is None or entry[0] is not pool:
        async with pool.acquire() as conn:
            yield conn
        return
    async with entry[1], pool.acquire() as conn:
        yield conn


def sqlalchemy_url(dsn: str) -> str:
    """Alembic runs on SQLAlchemy with psycopg 3; translate a plain libpq DSN.

    Migrations are raw SQL scripts; psycopg sends a statement without parameters over the
    simple query protocol, so one `op.execute` may hold several statements (asyncpg's
    prepared statements may not).
    """
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql+psycopg://" + dsn[len(prefix) :]
    raise ValueError("database_url must start with postgresql://")


def alembic_config(migrations_dir: Path, dsn: str) -> Any:
    """An Alembic Config for one service, built in code (no ini file needed at run time)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(dsn).replace("%", "%%"))
    return cfg


def run_migrations(migrations_dir: Path, dsn: str, revision: str = "head") -> None:
    """Upgrade the service's database to `revision` (sync; use `migrate` from async code)."""
    from alembic import command

    command.upgrade(alembic_config(migrations_dir, dsn), revision)
    log.info("db.migrated", migrations=str(migrations_dir.parent.name), revision=revision)


async def migrate(migrations_dir: Path, dsn: str) -> None:
    """Run the migrations from async code, in a worker thread."""
    await asyncio.to_thread(run_migrations, migrations_dir, dsn)


# Replicas starting together must not migrate at the same time.
_MIGRATION_LOCK_KEY = 0x0B1B_0001


def alembic_env_run() -> None:
    """Body of every service's migrations/env.py: online, under an advisory lock."""
    from alembic import context
    from sqlalchemy import create_engine, pool, text

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set; run migrations via bibmon_common.db")
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            # Session-level lock: released at disconnect even when a migration fails.
            connection.execute(text(f"SELECT pg_advisory_lock({_MIGRATION_LOCK_KEY})"))
            connection.commit()
            context.configure(connection=connection, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        engine.dispose()
