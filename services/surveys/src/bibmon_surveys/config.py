"""Settings of the surveys service (env prefix BIBMON_SURVEYS_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from bibmon_common.settings import ServiceSettings


class SurveysSettings(ServiceSettings):
    """Everything the surveys service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="BIBMON_SURVEYS_", extra="ignore")

    database_url: str = "postgresql://bibmon_surveys@127.0.0.1:5432/bibmon_surveys"
    # How often the closer looks for surveys past their deadline; a survey's status turns
    # "closed" at the deadline regardless, the closer records it and sends SurveyClosed.
    close_poll_seconds: float = Field(default=30.0, gt=0)
