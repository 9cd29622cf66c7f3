"""The responses service's app: one response per (survey, organisation); no personal data.

`uvicorn bibmon_responses.main:app` serves it with settings from the environment;
tests call `create_app(settings)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bibmon_common.app import ServiceContext, create_service_app, lazy_app
from bibmon_common.auth import JwksProvider
from bibmon_common.clock import Clock
from bibmon_responses import consumers
from bibmon_responses.api import review, routes
from bibmon_responses.config import ResponsesSettings
from bibmon_responses.deps import ResponsesDeps, build_deps

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(
    settings: ResponsesSettings | None = None,
    *,
    jwks_provider: JwksProvider | None = None,
    consumer_retry_delays: Sequence[float] = (5, 60, 600),
    clock: Clock | None = None,
) -> FastAPI:
    """Build the responses service; `clock` replaces the settings' clock (tests)."""
    settings = settings or ResponsesSettings()

    def build_consumers(ctx: ServiceContext[ResponsesDeps]) -> list[Any]:
        return consumers.build(ctx, retry_delays=consumer_retry_delays)

    return create_service_app(
        settings,
        service="responses",
        title="Bibliotheekmonitor — responses",
        description="Answers of each library organisation, keyed by organisation only.",
        routers=[routes.router, review.router],
        migrations_dir=MIGRATIONS_DIR,
        deps=build_deps(settings),
        clock=clock,
        consumers=build_consumers,
        jwks_provider=jwks_provider,
        # Revoked sessions from a copy reloaded every second, not a query per request.
        revocation_refresh=1.0,
    )


__getattr__ = lazy_app(__name__, create_app)
