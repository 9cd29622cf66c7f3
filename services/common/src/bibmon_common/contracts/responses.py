"""Messages produced by the responses service.

Keyed by survey and organisation only: no user, name or e-mail, and no answers (the
answers travel to reporting with `responses.response.submitted.v1` only, as the
organisation's figures, which are public under the Woo).
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from bibmon_common.events import Event, register


class _ResponseFacts(Event):
    response_id: UUID
    survey_id: UUID
    organisation_id: UUID


@register
class ResponseSubmitted(_ResponseFacts):
    """Sent each time an organisation submits its response (again, after a reopen).

    A consumer may rely on: `submission` counts up from 1 per response; the answers are
    those valid against `questionnaire_version`; `explanations` holds the organisation's
    notes on answers that raised a plausibility warning.
    """

    type: ClassVar[str] = "responses.response.submitted.v1"

    submission: int = Field(ge=1)
    submitted_at: AwareDatetime
    questionnaire_version: int = Field(ge=1)
    answers: dict[str, Any]
    explanations: dict[str, str] = Field(default_factory=dict)


@register
class ResponseAccepted(_ResponseFacts):
    """Sent when a researcher accepts a submitted response after review."""

    type: ClassVar[str] = "responses.response.accepted.v1"

    submission: int = Field(ge=1)
    accepted_at: AwareDatetime


@register
class ResponseReturned(_ResponseFacts):
    """Sent when a researcher returns a submitted response to the organisation.

    A consumer may rely on: the response is editable again; `remark` is the
    researcher's note on what to correct (about the figures, never about a person).
    """

    type: ClassVar[str] = "responses.response.returned.v1"

    submission: int = Field(ge=1)
    remark: str = Field(max_length=2000)
    returned_at: AwareDatetime


@register
class ResponseReopened(_ResponseFacts):
    """Sent when a kb_admin or researcher reopens a response for a correction.

    A consumer may rely on: the organisation may save and submit again even when the
    survey is closed; the earlier submissions stay in the response's history.
    """

    type: ClassVar[str] = "responses.response.reopened.v1"

    reason: str = Field(max_length=2000)
    reopened_at: AwareDatetime


@register
class SubmissionReplayed(_ResponseFacts):
    """Sent for every counted submission when reporting asks for a replay (a rebuild).

    The counted submission is the latest one that was not returned. A consumer may rely
    on: the same facts as the `responses.response.submitted.v1` it repeats; nothing
    happened now, so no e-mail or other side effect may follow from it (only reporting
    binds it).
    """

    type: ClassVar[str] = "responses.submission.replayed.v1"

    submission: int = Field(ge=1)
    submitted_at: AwareDatetime
    questionnaire_version: int = Field(ge=1)
    answers: dict[str, Any]
