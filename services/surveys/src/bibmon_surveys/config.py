"""Settings of the surveys service (env prefix BIBMON_SURVEYS_)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from bibmon_common.settings import ServiceSettings


class SurveysSettings(ServiceSettings):
    """Everything the surveys service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="BIBMON_SURVEYS_", extra="ignore")

    database_url: str = "postgresql://bibmon_surveys@127.0.0.1:5432/bibmon_surveys"
    # How often the closer looks for surveys past their deadline; a survey's status turns
    # "closed" at the deadline regardless, the closer records it and sends SurveyClosed.
    close_poll_seconds: float = Field(default=30.0, gt=0)
    # Demo data (contract.md): the two demo surveys of bibmon_common.demo, created once the
    # organisation read model is filled and its count has not changed for
    # `demo_settle_seconds`; given up after `demo_wait_seconds`.
    load_demo_data: bool | None = None  # default: true in development only
    demo_settle_seconds: float = Field(default=2.0, ge=0)
    demo_wait_seconds: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _no_demo_in_production(self) -> SurveysSettings:
        # Demo surveys are mandatory Wsob surveys for every organisation: in production
        # they would invite every real library.
        if self.environment == "production" and self.load_demo_data:
            raise ValueError("load_demo_data is refused in production (demo surveys)")
        return self

    @property
    def demo_enabled(self) -> bool:
        """Whether the demo surveys are created (development by default)."""
        if self.load_demo_data is None:
            return self.environment == "development"
        return self.load_demo_data
