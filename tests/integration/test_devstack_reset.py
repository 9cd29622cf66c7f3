"""`make run` on a checkout whose var/ was deleted, and `make reset`, on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def _load_devstack() -> Any:
    if "devstack" in sys.modules:
        return sys.modules["devstack"]
    spec = importlib.util.spec_from_file_location("devstack", ROOT / "scripts" / "devstack.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["devstack"] = module
    spec.loader.exec_module(module)
    return module


devstack = _load_devstack()


async def database_exists(name: str) -> bool:
    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


def test_deleted_var_with_databases_left_says_run_make_reset_and_reset_starts_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BIBMON_IDENTITY_DATA_KEY", raising=False)
    prefix = f"bibmon_reset_{uuid.uuid4().hex[:8]}"
    var_dir = tmp_path / "var"
    config = devstack.StackConfig(var_dir=var_dir, db_prefix=prefix, services=("identity",))
    name = f"{prefix}_identity"
    try:
        # A first run made var/ and the database; then var/ was deleted.
        first = devstack.Stack(config)
        first.prepare_databases()
        assert (var_dir / "dev-secrets.json").exists()
        (var_dir / "dev-secrets.json").unlink()

        with pytest.raises(devstack.StackError, match="make reset"):
            devstack.Stack(config).check_leftover_databases()
        # No new key was kept: the next run says the same instead of crashing identity.
        assert not (var_dir / "dev-secrets.json").exists()

        removed = devstack.Stack(config).reset()
        assert any(name in item for item in removed)
        assert not var_dir.exists()
        assert not asyncio.run(database_exists(name))
        devstack.Stack(config).check_leftover_databases()  # a fresh machine: no complaint
    finally:
        asyncio.run(devstack.drop_database(config.admin_dsn("identity"), name))
