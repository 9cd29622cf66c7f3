"""The surveys service's app: surveys, questionnaires, participants, deadlines."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from bibmon_common.app import ServiceContext, create_service_app, lazy_app
from bibmon_common.auth import JwksProvider
from bibmon_common.clock import Clock
from bibmon_surveys import consumers
from bibmon_surveys.api import surveys
from bibmon_surveys.closer import SurveyCloser
from bibmon_surveys.config import SurveysSettings
from bibmon_surveys.deps import SurveysDeps, build_deps

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# A survey with a large questionnaire is the largest body (a few hundred kB at most).
MAX_BODY_BYTES = 1_048_576


def create_app(
    settings: SurveysSettings | None = None,
    *,
    jwks_provider: JwksProvider | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the surveys service; `clock` replaces the settings' clock (tests)."""
    settings = settings or SurveysSettings()

    async def start_closer(ctx: ServiceContext[SurveysDeps]) -> None:
        if settings.start_background_workers:
            closer = SurveyCloser(ctx.deps, settings.close_poll_seconds)
            ctx.spawn(closer.run(), name="surveys-closer")

    return create_service_app(
        settings,
        service="surveys",
        title="Bibliotheekmonitor — surveys",
        description="Surveys (onderzoeken), questionnaires, participants and deadlines. "
        "Errors are RFC 9457 problem+json.",
        routers=[surveys.router],
        migrations_dir=MIGRATIONS_DIR,
        deps=build_deps(settings),
        clock=clock,
        consumers=consumers.build,
        on_startup=[start_closer],
        jwks_provider=jwks_provider,
        # Revoked sessions from a copy reloaded every second, not a query per request.
        revocation_refresh=1.0,
        max_body_bytes=MAX_BODY_BYTES,
    )


__getattr__ = lazy_app(__name__, create_app)
