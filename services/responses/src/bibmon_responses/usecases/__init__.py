"""Use cases of the responses service; the only place a transaction is opened.

Each takes the service's dependencies (`ResponsesDeps`) first, opens its own transaction
(or connection, to read; the optimistic draft save needs none) and returns typed models
(`bibmon_responses.models`). Functions documented as running "inside the caller's
transaction" are steps the message handlers (and the development-only demo seeding) call
within theirs.

Library staff act on their own organisation only; a survey that is unknown, not
published, or one the organisation does not take part in answers 404, so existence does
not leak (ASVS 8.2.2).

- `editing`: the organisation's changes (save, submit);
- `review`: a researcher's or kb_admin's (accept, return, reopen; history, progress);
- `projection`: what the service keeps of surveys' events;
- `viewing`: the response as the API shows it, the steps the others share;
- `replay`: reporting's rebuild.
"""

from __future__ import annotations

from bibmon_responses.usecases.editing import record_submission, save_answers, submit
from bibmon_responses.usecases.projection import (
    record_questionnaire_published,
    record_survey_closed,
    record_survey_published,
    record_survey_updated,
)
from bibmon_responses.usecases.replay import replay_counted_submissions
from bibmon_responses.usecases.review import (
    accept,
    history,
    progress,
    reopen,
    return_response,
)
from bibmon_responses.usecases.viewing import get_response

__all__ = [
    "accept",
    "get_response",
    "history",
    "progress",
    "record_questionnaire_published",
    "record_submission",
    "record_survey_closed",
    "record_survey_published",
    "record_survey_updated",
    "reopen",
    "replay_counted_submissions",
    "return_response",
    "save_answers",
    "submit",
]
