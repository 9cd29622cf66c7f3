"""Settings of the reporting service (env prefix BIBMON_REPORTING_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from bibmon_common.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    """Everything the reporting service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="BIBMON_REPORTING_", extra="ignore")

    database_url: str = "postgresql://bibmon_reporting@127.0.0.1:5432/bibmon_reporting"
