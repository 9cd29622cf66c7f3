"""Settings of the reporting service (env prefix BIBMON_REPORTING_)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from bibmon_common.settings import ServiceSettings
from bibmon_reporting.opendata import dcat
from bibmon_reporting.opendata.licence import DEFAULT_LICENCE, Licence, LicenceId, licence


class ReportingSettings(ServiceSettings):
    """Everything the reporting service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="BIBMON_REPORTING_", extra="ignore")

    database_url: str = "postgresql://bibmon_reporting@127.0.0.1:5432/bibmon_reporting"
    # A comparison group with fewer counted organisations shows "te weinig deelnemers".
    min_group_size: int = Field(default=3, ge=1)
    # How often the benchmark worker looks for surveys whose figures are out of date.
    benchmark_poll_seconds: float = Field(default=0.5, gt=0)

    # --- open data (Woo) ---
    # Licence of newly published datasets (SPDX id); a published version keeps its own.
    open_data_licence: LicenceId = DEFAULT_LICENCE
    # The publisher and contact point the DCAT-AP catalogue names.
    open_data_publisher_name: str = "KB, nationale bibliotheek"
    open_data_publisher_uri: str = "https://www.kb.nl/"
    open_data_contact_email: str = "bibliotheekmonitor@kb.nl"
    # False pauses publication (e.g. while the read models are rebuilt); the rest runs.
    open_data_publish: bool = True
    # How often the open-data worker looks for closed surveys whose dataset is due.
    open_data_poll_seconds: float = Field(default=1.0, gt=0)
    # A survey's dataset is published once its data has not changed for this long, so a
    # close or a burst of corrections gives one version, not one per event.
    open_data_settle_seconds: float = Field(default=5.0, ge=0)
    # After a rebuild was requested, publication waits until no replayed event has
    # arrived for this long: a read model that is still filling is never published.
    open_data_replay_quiet_seconds: float = Field(default=120.0, ge=0)


@dataclass(frozen=True)
class OpenDataConfig:
    """What open-data publication needs from the settings."""

    base_url: str
    licence: Licence
    publisher: dcat.Publisher
    settle_seconds: float = 0.0
    replay_quiet_seconds: float = 0.0

    @classmethod
    def from_settings(cls, settings: ReportingSettings) -> OpenDataConfig:
        """From ReportingSettings."""
        return cls(
            base_url=settings.public_base_url,
            licence=licence(settings.open_data_licence),
            publisher=dcat.Publisher(
                settings.open_data_publisher_name,
                settings.open_data_publisher_uri,
                settings.open_data_contact_email,
            ),
            settle_seconds=settings.open_data_settle_seconds,
            replay_quiet_seconds=settings.open_data_replay_quiet_seconds,
        )
