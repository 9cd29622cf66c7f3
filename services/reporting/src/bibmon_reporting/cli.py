"""`bibmon-reporting migrate|serve|rebuild`."""

from __future__ import annotations

import asyncio
import sys

from bibmon_common.cli import run_cli
from bibmon_common.clock import clock_from_settings
from bibmon_common.db import create_pool, run_migrations
from bibmon_common.logging import configure_logging
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.deps import build_deps
from bibmon_reporting.main import MIGRATIONS_DIR
from bibmon_reporting.usecases.read_models import request_rebuild

USAGE = """usage: bibmon-reporting rebuild

Empty reporting's read models and ask identity, surveys and responses to replay their
facts (ADR 0012). The running reporting service publishes the request and takes the
replay in; its figures are complete again once the replay has been consumed."""


async def rebuild(settings: ReportingSettings) -> None:
    """Migrate, then empty the read models and put the replay request in the outbox."""
    await asyncio.to_thread(run_migrations, MIGRATIONS_DIR, settings.database_url)
    pool = await create_pool(settings.database_url)
    try:
        deps = build_deps(settings)(pool, clock_from_settings(settings))
        replay_id = await request_rebuild(deps)
    finally:
        await pool.close()
    print(f"rebuild requested (replay {replay_id}); reporting takes the replay in as it arrives")


def main() -> None:
    """Entry point of the bibmon-reporting command."""
    if sys.argv[1:2] == ["rebuild"]:
        if len(sys.argv) > 2:
            print(USAGE, file=sys.stderr)
            raise SystemExit(2)
        settings = ReportingSettings()
        configure_logging("reporting", settings.log_level, settings.log_json)
        asyncio.run(rebuild(settings))
        return
    run_cli("reporting", ReportingSettings, MIGRATIONS_DIR, default_port=8104)
