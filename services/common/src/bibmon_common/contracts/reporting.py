"""Messages produced by the reporting service.

Organisation-level facts only: survey and organisation ids, times. No person, no figure.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bibmon_common.events import Event, Export, register


@register
class ReportReady(Event):
    """Sent once per organisation when its report of a closed survey is first ready.

    A consumer may rely on: at most one per (survey, organisation), sent after the
    figures were computed (`computed_at`); a later correction updates the figures and
    the report without a second event. The notifier mails the contact person.
    """

    type: ClassVar[str] = "reporting.report.ready.v1"

    survey_id: UUID
    organisation_id: UUID
    computed_at: AwareDatetime


@register
class ReplayRequested(Event):
    """Sent when an operator rebuilds reporting's read models (`bibmon-reporting rebuild`).

    A consumer may rely on: producers answer with their replay events (identity: the
    current `identity.organisation.updated.v1` of every organisation; surveys:
    `surveys.survey.replayed.v1`; responses: `responses.submission.replayed.v1`), through
    their outbox; `replay_id` names the request in their logs.
    """

    type: ClassVar[str] = "reporting.replay.requested.v1"

    replay_id: UUID
    requested_at: AwareDatetime


# --- open data (exports for KB systems) -------------------------------------------------------


class DatasetFile(BaseModel):
    """One published file of an open dataset."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["csv", "json", "dictionary"]
    url: str = Field(description="Public URL of exactly this version (`?version=n`), no login.")
    media_type: str
    byte_size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Lower-case hex SHA-256.")


@register
class DatasetPublished(Export):
    """Sent on `bibmon.exports` each time a closed survey's open dataset is (re)published.

    A consumer may rely on: exactly one per (survey_id, dataset_version), versions count
    up from 1 without gaps; a correction after closing publishes version n+1 (unchanged
    content publishes nothing); every file's `sha256` is that of the bytes at its `url`;
    the data is at library level and names no person. A key in the data dictionary
    means the same thing in every year of one `series_key`.
    """

    type: ClassVar[str] = "reporting.dataset.published.v1"

    survey_id: UUID
    series_key: str | None
    year: int = Field(description="Calendar year (Netherlands time) in which the survey opened.")
    title: str
    dataset_version: int = Field(ge=1)
    schema_version: int = Field(ge=1)
    row_count: int = Field(ge=0)
    licence: str = Field(description="SPDX id of the licence, e.g. CC0-1.0.")
    published_at: AwareDatetime
    files: tuple[DatasetFile, ...]
    catalog_url: str = Field(description="The DCAT-AP catalogue (JSON-LD) listing the dataset.")
