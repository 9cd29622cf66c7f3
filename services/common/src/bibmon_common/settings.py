"""Typed settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

import os
from typing import Literal
from urllib.parse import urlsplit

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Hosts only this machine reaches: a plain-HTTP public URL is harmless there (the compose
# demo runs in production mode on http://localhost).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

# Values that betray a copied example file; refused outside development
# (full-stack-fastapi-template's "changethis" check).
PLACEHOLDER_SECRETS = frozenset(
    {"", "changethis", "changeme", "secret", "password", "dev", "development"}
)

SECRETS_DIR = "/run/secrets"

Environment = Literal["development", "test", "production"]


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclass and set `env_prefix` to `BIBMON_<SERVICE>_`."""

    model_config = SettingsConfigDict(
        env_prefix="BIBMON_",
        # Compose and Kubernetes mount secrets as files (docker secrets); absent in development.
        secrets_dir=SECRETS_DIR if os.path.isdir(SECRETS_DIR) else None,
        extra="ignore",
        validate_default=True,
    )

    environment: Environment = "development"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    jwks_url: str = "http://127.0.0.1:8101/api/identity/.well-known/jwks.json"
    jwt_issuer: str = "bibmon-identity"
    public_base_url: str = "http://127.0.0.1:8080"
    log_level: str = "INFO"
    log_json: bool = True
    otlp_endpoint: str | None = None
    # A trace span per SQL statement (off: it costs more than most statements do).
    trace_db_queries: bool = False
    service_token_secret: SecretStr = SecretStr("development-only-service-token-secret")
    run_migrations_on_startup: bool = True
    start_background_workers: bool = True
    # Tests only: a file holding seconds to add to the clock (bibmon_common.clock).
    clock_offset_file: str | None = None
    # Demo data (README.md: `make run` loads it into empty databases): what a service
    # seeds is its own business (identity: staff users; surveys: two Wsob surveys;
    # responses: the closed one's answers). Default: on in development only.
    load_demo_data: bool | None = None

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> ServiceSettings:
        if self.environment == "production":
            self.check_secrets()
            self.check_public_base_url()
            if self.clock_offset_file:
                raise ValueError("clock_offset_file is for tests; it is refused in production")
            if self.load_demo_data:
                # Demo surveys would invite every real library; demo answers would reach
                # reporting; demo users would share one password.
                raise ValueError(
                    "load_demo_data is refused in production: demo data would reach real"
                    " organisations"
                )
        return self

    @property
    def demo_enabled(self) -> bool:
        """Whether this service seeds its demo data (development by default)."""
        if self.load_demo_data is None:
            return self.environment == "development"
        return self.load_demo_data

    def secret_fields(self) -> dict[str, SecretStr]:
        """Every SecretStr setting of this (sub)class, by name."""
        return {
            name: value
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), SecretStr)
        }

    def check_public_base_url(self) -> None:
        """Refuse an http:// public URL: links in e-mails carry tokens (ASVS 12.2.1)."""
        url = urlsplit(self.public_base_url)
        if url.scheme == "https" or (url.scheme == "http" and url.hostname in LOOPBACK_HOSTS):
            return
        raise ValueError(
            f"public_base_url must be https:// in production, not {url.scheme}://"
            " (the links in e-mails carry tokens; TLS ends at the Ingress)"
        )

    def check_secrets(self) -> None:
        """Fail fast on a missing or placeholder secret (ASVS 13.3.1)."""
        bad = [
            name
            for name, value in self.secret_fields().items()
            if value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
            or "development" in value.get_secret_value().lower()
        ]
        if bad:
            raise ValueError(
                f"placeholder or empty secret(s) in production: {', '.join(sorted(bad))}"
            )
