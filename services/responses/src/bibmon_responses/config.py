"""Settings of the responses service (env prefix BIBMON_RESPONSES_)."""

from __future__ import annotations

from pydantic import Field, model_validator
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
    # Demo data (contract.md): on surveys' publication of the demo closed survey
    # (bibmon_common.demo), submit demo answers for every participant.
    load_demo_data: bool | None = None  # default: true in development only

    @model_validator(mode="after")
    def _refuse_demo_data_in_production(self) -> ResponsesSettings:
        # Demo answers would be submitted for real organisations and reach reporting.
        if self.environment == "production" and self.load_demo_data:
            raise ValueError(
                "load_demo_data is refused in production: demo answers would be submitted"
                " for real organisations (unset BIBMON_RESPONSES_LOAD_DEMO_DATA)"
            )
        return self

    @property
    def demo_enabled(self) -> bool:
        """Whether the demo survey's responses are created (development by default)."""
        if self.load_demo_data is None:
            return self.environment == "development"
        return self.load_demo_data
