"""The reporting service's app: benchmarks, infographics, reports, open data."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from bibmon_common.app import create_service_app
from bibmon_reporting import api, consumers
from bibmon_reporting.config import ReportingSettings

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    """Build the reporting service."""
    return create_service_app(
        settings or ReportingSettings(),
        service="reporting",
        title="Bibliotheekmonitor — reporting",
        description="Benchmarks, infographics, reports and open data (library level only).",
        routers=[api.router],
        migrations_dir=MIGRATIONS_DIR,
        consumers=consumers.build,
    )
