"""The responses role cannot reach identity's database, and the other way round.

Responses lives on a PostgreSQL server of its own (in development the private instance
`make run` starts under var/); each service has its own role and database with CONNECT
revoked from PUBLIC. This test builds that layout the way scripts/devstack.py does, with
its own functions: a private instance on a free port in a temporary directory for the
responses database, and an identity database on the main server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[4]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def devstack() -> ModuleType:
    """scripts/devstack.py, imported from its path (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("bibmon_devstack", ROOT / "scripts/devstack.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def private_pg(devstack: ModuleType) -> Iterator[Any]:
    """A private PostgreSQL instance, stopped and deleted afterwards whatever happens."""
    tmp = Path(tempfile.mkdtemp(prefix="bibmon-iso-"))
    instance = devstack.PrivatePostgres(tmp / "data", devstack.free_port())
    try:
        instance.start()
        yield instance
    finally:
        instance.started_here = instance.started_here or (tmp / "data/postmaster.pid").exists()
        instance.stop()
        pid_file = tmp / "data/postmaster.pid"
        if pid_file.exists():  # stop failed: do not leave our instance running
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
        shutil.rmtree(tmp, ignore_errors=True)


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _current_user(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SELECT current_user"))
    finally:
        await conn.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_responses_and_identity_roles_cannot_reach_each_others_database(
    devstack: ModuleType, private_pg: Any
) -> None:
    prefix = f"bibmon_iso_{uuid.uuid4().hex[:8]}"
    config = devstack.StackConfig(db_prefix=prefix, pg_port=5432, responses_pg_port=private_pg.port)
    responses, identity = f"{prefix}_responses", f"{prefix}_identity"
    main_admin = config.admin_dsn("identity")
    private_admin = config.admin_dsn("responses")
    assert private_admin != main_admin
    try:
        await devstack.ensure_database(private_admin, responses)
        await devstack.ensure_database(main_admin, identity)
        # Each role also exists on the other server, so that only the missing CONNECT
        # right (REVOKE ... FROM PUBLIC) can stop it, not an unknown role.
        await _execute(main_admin, f'CREATE ROLE "{responses}" LOGIN')
        await _execute(private_admin, f'CREATE ROLE "{identity}" LOGIN')

        assert await _current_user(config.dsn("responses")) == responses
        assert await _current_user(config.dsn("identity")) == identity

        identity_db_as_responses = f"postgresql://{responses}@127.0.0.1:5432/{identity}"
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await asyncpg.connect(identity_db_as_responses)
        responses_db_as_identity = (
            f"postgresql://{identity}@127.0.0.1:{private_pg.port}/{responses}"
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await asyncpg.connect(responses_db_as_identity)
        # And the responses database is not on identity's server at all.
        with pytest.raises(asyncpg.InvalidCatalogNameError):
            await asyncpg.connect(f"postgresql://{responses}@127.0.0.1:5432/{responses}")
    finally:
        await devstack.drop_database(main_admin, identity)
        await _execute(main_admin, f'DROP ROLE IF EXISTS "{responses}"')
