"""The identity service's app: organisations, users, login, tokens, TOTP, account requests."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from bibmon_common.app import create_service_app
from bibmon_common.clock import Clock
from bibmon_identity import consumers
from bibmon_identity.api import admin, internal, login, me, organisations
from bibmon_identity.config import IdentitySettings
from bibmon_identity.deps import SERVICE, build_deps
from bibmon_identity.domain.crypto import DataCipher
from bibmon_identity.usecases import bootstrap
from bibmon_identity.usecases.keys import KeyStore

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# The bodies identity accepts are small; the organisations CSV is the largest (~10 kB).
MAX_BODY_BYTES = 256 * 1024


def create_app(settings: IdentitySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the identity service; `clock` replaces the settings' one (tests)."""
    settings = settings or IdentitySettings()
    keys = KeyStore(settings, DataCipher(settings.data_key_bytes()))
    app = create_service_app(
        settings,
        service=SERVICE,
        title="Bibliotheekmonitor — identity",
        description="Organisations, users, login, tokens, two-factor authentication, "
        "account requests and contact persons. Errors are RFC 9457 problem+json.",
        routers=[login.router, me.router, admin.router, organisations.router],
        migrations_dir=MIGRATIONS_DIR,
        deps=build_deps(settings, keys),
        clock=clock,
        consumers=consumers.build,
        on_startup=[bootstrap.on_startup],
        # Identity verifies its own tokens from memory, never over HTTP to itself.
        jwks_provider=keys.jwks,
        max_body_bytes=MAX_BODY_BYTES,
    )
    # Outside /api/identity, so the gateway (which routes /api/<service>/) never exposes it.
    app.include_router(internal.router)
    return app
