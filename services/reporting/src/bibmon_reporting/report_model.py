"""What one organisation's report holds: its own figures against three comparison groups.

This is the contract between the benchmark computation (which fills it), the HTTP API
(`GET /api/reporting/surveys/{survey_id}/benchmark` answers it as JSON) and the renderers
(infographic SVG/PNG, report HTML/PDF), so each can be built and tested on its own.

Only library-level data: organisation ids, names of library organisations, figures. No
person is named anywhere in a report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

GroupKind = Literal["national", "province", "size_class"]
GROUP_KINDS: tuple[GroupKind, ...] = ("national", "province", "size_class")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NumericGroup(_Model):
    """Figures of one comparison group for one numeric question.

    `too_few` is true when fewer organisations than the minimum group size answered: then
    every figure is None and a reader sees "te weinig deelnemers", never a number.
    """

    kind: GroupKind
    label: str = Field(description="Dutch label: 'Nederland', the province, the size class.")
    n: int = Field(description="Organisations in the group that answered the question.")
    too_few: bool
    mean: float | None = None
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    min: float | None = None
    max: float | None = None
    percentile_rank: float | None = Field(
        default=None,
        description=(
            "Share (0-100) of the group's values below the organisation's own value, "
            "counting ties as half; None when the organisation did not answer or too_few."
        ),
    )


class NumericFigures(_Model):
    """An organisation's own value against the three groups."""

    own: float | None
    groups: tuple[NumericGroup, ...]


class ChoiceShare(_Model):
    value: str = Field(description="Option value (yes_no: 'true' / 'false').")
    label: str
    percent: float


class ChoiceGroup(_Model):
    """Distribution of the answers in one comparison group, in percentages of n."""

    kind: GroupKind
    label: str
    n: int
    too_few: bool
    shares: tuple[ChoiceShare, ...] = ()


class QuestionBenchmark(_Model):
    key: str
    label: str
    type: str
    unit: str = ""
    key_figure: bool = False
    numeric: NumericFigures | None = Field(default=None, description="Numeric questions.")
    per_inhabitant: NumericFigures | None = Field(
        default=None, description="Per 1,000 inhabitants, where the questionnaire asks for it."
    )
    own_choice: tuple[str, ...] | None = Field(
        default=None, description="Choice and yes/no questions: the organisation's answer."
    )
    choice: tuple[ChoiceGroup, ...] | None = Field(
        default=None, description="Choice and yes/no questions: distribution per group."
    )


class SectionBenchmark(_Model):
    key: str
    title: str
    questions: tuple[QuestionBenchmark, ...]


class OrganisationInfo(_Model):
    id: UUID
    name: str
    province: str
    size_class: str
    size_class_label: str
    inhabitants: int | None = None


class SurveyInfo(_Model):
    id: UUID
    title: str
    series_key: str | None = None
    closed_at: datetime | None = None
    questionnaire_version: int


class OrganisationReport(_Model):
    """Everything one organisation's report, infographic and benchmark answer show."""

    survey: SurveyInfo
    organisation: OrganisationInfo
    computed_at: datetime = Field(description="When these figures were computed (dated).")
    min_group_size: int
    counted: int = Field(description="Submissions counted nationally.")
    sections: tuple[SectionBenchmark, ...]

    def key_figures(self) -> tuple[QuestionBenchmark, ...]:
        """The questions the infographic shows, in questionnaire order."""
        return tuple(q for s in self.sections for q in s.questions if q.key_figure)
