"""Settings of the web client (env prefix BIBMON_WEB_)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

SECRETS_DIR = "/run/secrets"
# services/web/src/bibmon_web/config.py → the repository (or /app in the image).
REPO_ROOT = Path(__file__).resolve().parents[4]


class WebSettings(BaseSettings):
    """Where the other services answer, and how pages look and behave."""

    model_config = SettingsConfigDict(
        env_prefix="BIBMON_WEB_",
        secrets_dir=SECRETS_DIR if os.path.isdir(SECRETS_DIR) else None,
        extra="ignore",
    )

    environment: Literal["development", "test", "production"] = "development"
    # The services' own addresses on the internal network (not through the gateway): the
    # web service is one more client of their public APIs, with the user's own token.
    identity_url: str = "http://127.0.0.1:8101"
    surveys_url: str = "http://127.0.0.1:8102"
    responses_url: str = "http://127.0.0.1:8103"
    reporting_url: str = "http://127.0.0.1:8104"
    notifier_url: str = "http://127.0.0.1:8105"
    public_base_url: str = "http://127.0.0.1:8080"
    support_email: str = "bibliotheekmonitor@kb.nl"
    # node_modules of the committed package-lock.json (NL Design System CSS, htmx).
    assets_dir: Path = REPO_ROOT / "node_modules"
    cookie_secure: bool | None = None  # default: public_base_url is https
    api_timeout_seconds: float = 15.0
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def secure_cookies(self) -> bool:
        """`__Host-` cookies with Secure: whenever people reach us over https."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_base_url.startswith("https://")

    def service_url(self, service: str) -> str:
        """Base URL of a service's API (…/api/<service>)."""
        base = {
            "identity": self.identity_url,
            "surveys": self.surveys_url,
            "responses": self.responses_url,
            "reporting": self.reporting_url,
            "notifier": self.notifier_url,
        }[service]
        return f"{base.rstrip('/')}/api/{service}"
