"""Messages produced by the surveys service.

None carries personal data: surveys, questionnaires and participating organisations only.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bibmon_common.events import Event, register
from bibmon_common.questionnaire import Questionnaire

LegalBasis = Literal["wsob", "subsidy"]


class _SurveyFacts(Event):
    survey_id: UUID
    series_key: str | None = None
    title: str
    description: str = ""
    mandatory: bool
    # For a mandatory survey: the Wsob data-delivery regulation, or a subsidy scheme
    # named in `legal_basis_name`. Null for a voluntary survey.
    legal_basis: LegalBasis | None = None
    legal_basis_name: str | None = None
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    # The participating organisations, resolved when the survey was published.
    participants: tuple[UUID, ...]


@register
class SurveyPublished(_SurveyFacts):
    """Sent once when a researcher or kb_admin publishes a survey.

    A consumer may rely on: the questionnaire is frozen as `questionnaire_version`; a
    later change arrives as `surveys.questionnaire.published.v1` with a higher version;
    the survey accepts answers from `opens_at` until `closes_at` or a
    `surveys.survey.closed.v1`, whichever comes first.
    """

    type: ClassVar[str] = "surveys.survey.published.v1"

    questionnaire_version: int = Field(ge=1)
    questionnaire: Questionnaire


@register
class SurveyUpdated(_SurveyFacts):
    """Sent when a published survey's title, description or deadline changes.

    A consumer may rely on: it carries all the survey's facts as they are now (the
    participants and the legal basis do not change after publishing).
    """

    type: ClassVar[str] = "surveys.survey.updated.v1"


@register
class QuestionnairePublished(Event):
    """Sent when a published survey gets a new questionnaire version.

    A consumer may rely on: responses started on an earlier version keep being
    validated against that version; new responses start on this one.
    """

    type: ClassVar[str] = "surveys.questionnaire.published.v1"

    survey_id: UUID
    questionnaire_version: int = Field(ge=2)
    questionnaire: Questionnaire


@register
class SurveyClosed(Event):
    """Sent once when a survey closes: at `closes_at`, or earlier by hand.

    A consumer may rely on: no organisation can submit after this, except one whose
    response a researcher or kb_admin reopens for a correction.
    """

    type: ClassVar[str] = "surveys.survey.closed.v1"

    survey_id: UUID
    closed_at: AwareDatetime
    by_hand: bool


class QuestionnaireVersion(BaseModel):
    """One frozen questionnaire version of a replayed survey."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    version: int = Field(ge=1)
    questionnaire: Questionnaire


@register
class SurveyReplayed(_SurveyFacts):
    """Sent for every published survey when reporting asks for a replay (a rebuild).

    A consumer may rely on: the survey's current facts, every published questionnaire
    version and `closed_at` (null while open); nothing happened now, so no e-mail or
    other side effect may follow from it (only reporting binds it).
    """

    type: ClassVar[str] = "surveys.survey.replayed.v1"

    questionnaire_versions: tuple[QuestionnaireVersion, ...] = Field(min_length=1)
    closed_at: AwareDatetime | None = None
