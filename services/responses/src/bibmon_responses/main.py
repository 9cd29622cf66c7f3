"""The responses service's app: one response per (survey, organisation); no personal data."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from bibmon_common.app import create_service_app
from bibmon_responses.config import ResponsesSettings

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: ResponsesSettings | None = None) -> FastAPI:
    """Build the responses service."""
    return create_service_app(
        settings or ResponsesSettings(),
        service="responses",
        title="Bibliotheekmonitor — responses",
        description="Answers of each library organisation, keyed by organisation only.",
        routers=[],
        migrations_dir=MIGRATIONS_DIR,
    )
