"""Each service's real app on a fresh database, for the in-process security tests.

No broker (background workers off): these tests talk HTTP only. Tokens come from a
`TestKeys` per service, verified by the kernel's verifier with the revocation check.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from bibmon_common.auth import JWTVerifier
from bibmon_common.projections import is_session_revoked
from bibmon_common.testing.db import fresh_database
from bibmon_common.testing.tokens import TEST_ISSUER, TestKeys

SERVICES = ("identity", "surveys", "responses", "reporting", "notifier")


@dataclass
class RunningService:
    """One service's app, an HTTP client of it and the keys its tokens are signed with."""

    name: str
    app: Any
    client: httpx.AsyncClient
    keys: TestKeys

    def openapi(self) -> dict[str, Any]:
        return dict(self.app.openapi())


def settings_for(service: str, dsn: str) -> Any:
    """The service's settings for a test on `dsn`: no broker, no demo, test keys' issuer."""
    config = importlib.import_module(f"bibmon_{service}.config")
    cls = next(
        getattr(config, name)
        for name in dir(config)
        if name.endswith("Settings") and name.lower().startswith(service)
    )
    extra: dict[str, Any] = {}
    if service == "identity":
        extra = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
    return cls(
        environment="test",
        database_url=dsn,
        jwt_issuer=TEST_ISSUER,
        start_background_workers=False,
        run_migrations_on_startup=False,
        load_demo_data=False,
        log_json=False,
        log_level="WARNING",
        **extra,
    )


@contextlib.asynccontextmanager
async def running(service: str) -> AsyncIterator[RunningService]:
    """The service's app, started (lifespan) on a fresh, migrated database."""
    main = importlib.import_module(f"bibmon_{service}.main")
    async with fresh_database(f"bibmon_sec_{service}", migrations_dir=main.MIGRATIONS_DIR) as dsn:
        app = main.create_app(settings_for(service, dsn))
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
            keys = TestKeys(service)
            # The app's own verifier would fetch identity's JWKS over HTTP.
            app.state.jwt_verifier = JWTVerifier(
                keys.provider,
                issuer=keys.issuer,
                audience=keys.audience,
                revoked=functools.partial(is_session_revoked, app.state.ctx.pool),
            )
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                yield RunningService(service, app, client, keys)
