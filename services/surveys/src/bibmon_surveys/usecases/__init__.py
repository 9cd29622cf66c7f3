"""Use cases of the surveys service; the only place a transaction is opened.

Each takes the service's dependencies (`SurveysDeps`) first, opens its own transaction
(or connection, to read) and returns typed models (`bibmon_surveys.models`). Functions
documented as running "inside the caller's transaction" are steps the message handlers
(and the development-only demo seeding) call within theirs.
"""

from __future__ import annotations

from bibmon_surveys.usecases.closing import close_at_deadline, close_due_surveys, close_survey
from bibmon_surveys.usecases.designing import (
    create_survey,
    publish_checked,
    publish_survey,
    update_survey,
)
from bibmon_surveys.usecases.presenting import as_columns, is_manager, present
from bibmon_surveys.usecases.reading import (
    get_questionnaire,
    get_survey,
    list_participants,
    list_surveys,
)
from bibmon_surveys.usecases.replay import replay_surveys

__all__ = [
    "as_columns",
    "close_at_deadline",
    "close_due_surveys",
    "close_survey",
    "create_survey",
    "get_questionnaire",
    "get_survey",
    "is_manager",
    "list_participants",
    "list_surveys",
    "present",
    "publish_checked",
    "publish_survey",
    "replay_surveys",
    "update_survey",
]
