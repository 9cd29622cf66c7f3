"""The reporting service's app: benchmarks, infographics, reports, open data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bibmon_common.app import ServiceContext, create_service_app, lazy_app
from bibmon_common.auth import JwksProvider
from bibmon_reporting import api, benchmarks, consumers, services
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.documents import api as documents_api
from bibmon_reporting.opendata import api as opendata_api
from bibmon_reporting.opendata import worker as opendata_worker

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(
    settings: ReportingSettings | None = None,
    *,
    jwks_provider: JwksProvider | None = None,
    consumer_retry_delays: Sequence[float] = (5, 60, 600),
) -> FastAPI:
    """Build the reporting service."""

    async def catch_up(ctx: ServiceContext) -> None:
        if ctx.settings.demo_enabled and ctx.settings.start_background_workers:
            await services.catch_up_in_development(ctx.pool)
            # Asked again a few times while nothing arrives: at a first start the other
            # services may not have bound their queues to the request yet.
            ctx.spawn(services.keep_catching_up(ctx.pool), name="reporting-catch-up")

    def build_consumers(ctx: ServiceContext) -> list[Any]:
        return consumers.build(ctx, retry_delays=consumer_retry_delays)

    return create_service_app(
        settings or ReportingSettings(),
        service="reporting",
        title="Bibliotheekmonitor — reporting",
        description="Benchmarks, infographics, reports and open data (library level only).",
        routers=[api.router, opendata_api.router, documents_api.router],
        migrations_dir=MIGRATIONS_DIR,
        consumers=build_consumers,
        on_startup=[
            benchmarks.start_worker,
            catch_up,
            opendata_worker.start_worker,
            documents_api.start_warm_up,
        ],
        jwks_provider=jwks_provider,
    )


__getattr__ = lazy_app(__name__, create_app)
