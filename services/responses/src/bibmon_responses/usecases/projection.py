"""The survey projection: what the responses service keeps of surveys' events.

Called by the message handlers (consumers.py) inside the consumer's transaction.
"""

from __future__ import annotations

from datetime import datetime

from bibmon_common.contracts.surveys import (
    QuestionnairePublished,
    SurveyClosed,
    SurveyPublished,
    SurveyUpdated,
)
from bibmon_responses import repository as repo
from bibmon_responses.repository import Conn


async def record_survey_published(conn: Conn, message: SurveyPublished, at: datetime) -> None:
    """Keep the survey's facts and its first questionnaire version."""
    await record_survey_updated(conn, message, at)
    await record_questionnaire_published(conn, message)


async def record_survey_updated(
    conn: Conn, message: SurveyPublished | SurveyUpdated, at: datetime
) -> None:
    """The survey's facts, also of a publication (a deadline moved; an update that overtook
    the publication is kept too)."""
    await repo.upsert_survey(
        conn,
        survey_id=message.survey_id,
        series_key=message.series_key,
        opens_at=message.opens_at,
        closes_at=message.closes_at,
        participants=message.participants,
        source_time=at,
    )


async def record_questionnaire_published(
    conn: Conn, message: SurveyPublished | QuestionnairePublished
) -> None:
    """Keep a questionnaire version; responses already started stay on theirs."""
    await repo.insert_questionnaire_version(
        conn,
        message.survey_id,
        message.questionnaire_version,
        message.questionnaire.model_dump(mode="json"),
    )


async def record_survey_closed(conn: Conn, message: SurveyClosed) -> None:
    """From now on only reopened responses may be saved or submitted."""
    await repo.mark_survey_closed(conn, message.survey_id, message.closed_at)
