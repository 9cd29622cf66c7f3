"""The reporting service's app: benchmarks, infographics, reports, open data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bibmon_common.app import ServiceContext, create_service_app, lazy_app
from bibmon_common.auth import JwksProvider
from bibmon_common.clock import Clock
from bibmon_reporting import api, consumers, worker
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.deps import SERVICE, ReportingDeps, build_deps
from bibmon_reporting.documents import api as documents_api
from bibmon_reporting.opendata import api as opendata_api
from bibmon_reporting.opendata import worker as opendata_worker
from bibmon_reporting.usecases import read_models

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


async def catch_up(ctx: ServiceContext[ReportingDeps]) -> None:
    """With demo data on: ask for a replay when reporting knows no survey yet."""
    if ctx.settings.demo_enabled and ctx.settings.start_background_workers:
        await read_models.catch_up_in_development(ctx.deps)
        # Asked again a few times while nothing arrives: at a first start the other
        # services may not have bound their queues to the request yet.
        ctx.spawn(read_models.keep_catching_up(ctx.deps), name="reporting-catch-up")


def create_app(
    settings: ReportingSettings | None = None,
    *,
    jwks_provider: JwksProvider | None = None,
    consumer_retry_delays: Sequence[float] = (5, 60, 600),
    clock: Clock | None = None,
) -> FastAPI:
    """Build the reporting service.

    `clock` replaces the one the settings choose (tests give theirs here, before start-up).
    """
    settings = settings or ReportingSettings()

    def build_consumers(ctx: ServiceContext[ReportingDeps]) -> list[Any]:
        return consumers.build(ctx, retry_delays=consumer_retry_delays)

    return create_service_app(
        settings,
        service=SERVICE,
        title="Bibliotheekmonitor — reporting",
        description="Benchmarks, infographics, reports and open data (library level only).",
        routers=[api.router, opendata_api.router, documents_api.router],
        migrations_dir=MIGRATIONS_DIR,
        deps=build_deps(settings),
        clock=clock,
        consumers=build_consumers,
        on_startup=[
            worker.start_worker,
            catch_up,
            opendata_worker.start_worker,
            documents_api.start_warm_up,
        ],
        jwks_provider=jwks_provider,
        # Revoked sessions from a copy reloaded every second, not a query per request.
        revocation_refresh=1.0,
    )


__getattr__ = lazy_app(__name__, create_app)
