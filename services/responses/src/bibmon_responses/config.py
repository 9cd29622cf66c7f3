"""Settings of the responses service (env prefix BIBMON_RESPONSES_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from bibmon_common.settings import ServiceSettings


class ResponsesSettings(ServiceSettings):
    """Everything the responses service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="BIBMON_RESPONSES_", extra="ignore")

    database_url: str = "postgresql://bibmon_responses@127.0.0.1:5433/bibmon_responses"
