"""The responses API's bodies: what it takes, and what the use cases return and it answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bibmon_common.questionnaire import KEY_PATTERN
from bibmon_common.text import PlainText
from bibmon_responses.domain import Status, WarningCode

# A question key as questionnaires define it (ASCII, at most 64 characters). Keys of
# answers and explanations are checked against it at the edge: a key that cannot name a
# question is a 422 from pydantic (`answers.<key>.[key]`), and a key that is no valid text
# at all (a lone surrogate) fails pydantic's string check, whose error location pydantic
# renders lossily, so the problem body never repeats unencodable input.
QuestionKey = Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=64)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SaveIn(_In):
    """Some answers (`null` clears one) and the version the client last read."""

    answers: dict[QuestionKey, Any] = Field(
        description="Only the questions sent are changed; `null` clears an answer."
    )
    # Compared with the stored revision in Python only (never a bind parameter), so a
    # huge one is a 409 conflict like any version newer than the response.
    version: int = Field(ge=0, description="The `version` of the response the client read.")


class SubmitIn(_In):
    """Explanations of answers that raised a plausibility warning (and any others)."""

    explanations: dict[QuestionKey, PlainText] = Field(default_factory=dict)


class ReturnIn(_In):
    remark: PlainText = Field(
        min_length=1, max_length=2000, description="What to correct (about figures, not people)."
    )


class ReopenIn(_In):
    reason: PlainText = Field(min_length=1, max_length=2000)


class WarningOut(BaseModel):
    """A plausibility warning: submitting needs an explanation for this question."""

    question: str
    code: WarningCode
    previous_value: Any = None
    message: str
    message_en: str


class ResponseOut(BaseModel):
    """One organisation's response to one survey."""

    survey_id: UUID
    organisation_id: UUID
    status: Status
    version: int = Field(description="Revision; send it back with the next save. 0: not started.")
    questionnaire_version: int
    answers: dict[str, Any]
    changed_at: dict[str, datetime] = Field(description="When each answer last changed.")
    submitted_at: datetime | None
    submission: int = Field(description="Number of submissions so far.")
    remark: str | None = Field(description="The researcher's remark of the last return.")
    reopen_reason: str | None
    explanations: dict[str, str]
    warnings: list[WarningOut]
    previous_answers: dict[str, Any] = Field(
        description="This organisation's answers to the previous survey of the series."
    )
    can_edit: bool
    can_submit: bool
    updated_at: datetime | None


class ResponseStatusOut(BaseModel):
    """A response's state without its answers (what a kb_admin may see)."""

    survey_id: UUID
    organisation_id: UUID
    status: Status
    version: int
    submission: int
    submitted_at: datetime | None
    reopen_reason: str | None
    updated_at: datetime | None


class SubmissionOut(BaseModel):
    """One submitted version, as it was submitted."""

    submission: int
    questionnaire_version: int
    answers: dict[str, Any]
    explanations: dict[str, str]
    warnings: list[WarningOut]
    submitted_at: datetime
    review: Literal["accepted", "returned"] | None
    reviewed_at: datetime | None
    remark: str | None


class HistoryOut(BaseModel):
    survey_id: UUID
    organisation_id: UUID
    items: list[SubmissionOut] = Field(description="Every submitted version, oldest first.")


class ProgressEntry(BaseModel):
    organisation_id: UUID
    status: Status
    submission: int
    submitted_at: datetime | None
    updated_at: datetime | None


class ProgressOut(BaseModel):
    """Every participating organisation (ids only: names live in identity)."""

    survey_id: UUID
    total: int
    counts: dict[Status, int]
    organisations: list[ProgressEntry]


class Conflict(BaseModel):
    question: str
    current_value: Any
    changed_at: datetime


class ConflictProblem(BaseModel):
    """409 on a save: the questions someone else changed; nothing was written."""

    type: str
    title: str
    status: int
    detail: str | None = None
    version: int | None = None
    conflicts: list[Conflict] = []
