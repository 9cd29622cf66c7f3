"""Settings of the responses service (env prefix BIBMON_RESPONSES_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from bibmon_common.settings import ServiceSettings


class ResponsesSettings(ServiceSettings):
    """Everything the responses service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="BIBMON_RESPONSES_", extra="ignore")

    database_url: str = "postgresql://bibmon_responses@127.0.0.1:5433/bibmon_responses"

    # Plausibility: warn when a number differs from the organisation's answer to the
    # previous survey of the series by more than this fraction (0.5 = ±50 %) ...
    plausibility_ratio: float = Field(default=0.5, gt=0)
    # ... or lies below min / (1 + factor) or above max * (1 + factor) of every
    # organisation's submitted answers to that survey.
    national_range_factor: float = Field(default=1.0, ge=0)
    # Shortest explanation accepted for an answer that raised a warning.
    explanation_min_length: int = Field(default=5, ge=1)
