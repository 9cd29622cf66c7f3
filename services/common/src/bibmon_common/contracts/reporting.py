"""Messages produced by the reporting service.

Organisation-level facts only: survey and organisation ids, times. No person, no figure.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime

from bibmon_common.events import Event, register


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
