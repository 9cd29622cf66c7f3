"""The surveys service's app: surveys, questionnaires, participants, deadlines."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from bibmon_common.app import create_service_app
from bibmon_surveys import consumers
from bibmon_surveys.config import SurveysSettings

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: SurveysSettings | None = None) -> FastAPI:
    """Build the surveys service."""
    return create_service_app(
        settings or SurveysSettings(),
        service="surveys",
        title="Bibliotheekmonitor — surveys",
        description="Surveys (onderzoeken), questionnaires, participants and deadlines.",
        routers=[],
        migrations_dir=MIGRATIONS_DIR,
        consumers=consumers.build,
    )
