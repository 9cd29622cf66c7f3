"""The surveys API's bodies: what it takes, and what the use cases return and it answers."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bibmon_common.questionnaire import Questionnaire
from bibmon_common.text import PlainText
from bibmon_surveys.domain import (
    SERIES_KEY_PATTERN,
    LegalBasis,
    Participants,
    SizeClass,
    Status,
    no_participants,
)

__all__ = [
    "ParticipantList",
    "ParticipantOut",
    "QuestionnaireOut",
    "SurveyIn",
    "SurveyOut",
    "SurveyPage",
    "SurveyPatch",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SurveyIn(_In):
    """A new draft survey."""

    title: PlainText = Field(min_length=1, max_length=300)
    description: PlainText = Field(default="", max_length=10_000)
    mandatory: bool = False
    legal_basis: LegalBasis | None = Field(
        default=None,
        description='Required for a mandatory survey: "wsob" (the Wsob data-delivery '
        'regulation) or "subsidy"; null for a voluntary one.',
    )
    legal_basis_name: PlainText | None = Field(default=None, min_length=1, max_length=300)
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    series_key: str | None = Field(default=None, pattern=SERIES_KEY_PATTERN)
    participants: Participants = Field(default_factory=no_participants)
    questionnaire: Questionnaire | None = None


class SurveyPatch(_In):
    """Fields to change; after publishing only title, description, closes_at, questionnaire."""

    title: PlainText | None = Field(default=None, min_length=1, max_length=300)
    description: PlainText | None = Field(default=None, max_length=10_000)
    mandatory: bool | None = None
    legal_basis: LegalBasis | None = None
    legal_basis_name: PlainText | None = Field(default=None, min_length=1, max_length=300)
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    series_key: str | None = Field(default=None, pattern=SERIES_KEY_PATTERN)
    participants: Participants | None = None
    questionnaire: Questionnaire | None = None


class SurveyOut(BaseModel):
    """A survey (onderzoek)."""

    id: UUID
    series_key: str | None
    title: str
    description: str
    mandatory: bool
    legal_basis: LegalBasis | None
    legal_basis_name: str | None
    opens_at: datetime
    closes_at: datetime
    participants: Participants = Field(description="How the participants are chosen.")
    participant_ids: list[UUID] | None = Field(
        description="The participating organisations, resolved when published (null for a draft)."
    )
    status: Status
    questionnaire: Questionnaire | None = Field(
        description="A draft's working copy, or the latest published version."
    )
    questionnaire_version: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    closed_at: datetime | None


class SurveyPage(BaseModel):
    """A page of surveys, latest opening first."""

    items: list[SurveyOut]
    total: int
    limit: int
    offset: int


class QuestionnaireOut(BaseModel):
    """A frozen questionnaire version (version and published_at null: a draft's copy)."""

    survey_id: UUID
    version: int | None
    questionnaire: Questionnaire
    published_at: datetime | None


class ParticipantOut(BaseModel):
    """A participating organisation as the organisation register describes it."""

    id: UUID
    name: str | None
    province: str | None
    size_class: SizeClass | None


class ParticipantList(BaseModel):
    """The participants; `preview` when the survey is a draft (resolved from the register now)."""

    survey_id: UUID
    preview: bool
    total: int
    items: list[ParticipantOut]
