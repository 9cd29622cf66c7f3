"""What reporting's use cases return besides a report (`report_model.OrganisationReport`).

The API returns these as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel


class ReportListItem(BaseModel):
    organisation_id: UUID
    name: str
    province: str | None
    size_class: str | None
    submitted_at: datetime


class Organisation(BaseModel):
    """An organisation of the read model (public master data, as identity published it)."""

    id: UUID
    name: str
    province: str
    municipalities: list[str]
    inhabitants: int
    size_class: str


class DatasetFileLink(BaseModel):
    kind: str
    url: str
    byte_size: int
    sha256: str


class DatasetSummary(BaseModel):
    survey_id: UUID
    title: str
    series_key: str | None
    year: int
    dataset_version: int
    row_count: int
    licence: str
    first_published_at: datetime
    published_at: datetime
    files: list[DatasetFileLink]


@dataclass(frozen=True)
class DatasetFileContent:
    """One published file of a dataset version: its bytes, their SHA-256, the version."""

    content: bytes
    sha256: str
    version: int
