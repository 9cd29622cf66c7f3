"""Reading surveys: one, a page, a questionnaire version, the participants."""

from __future__ import annotations

from uuid import UUID

from bibmon_common.auth import Principal
from bibmon_common.errors import NotFound
from bibmon_common.projections import list_organisations
from bibmon_surveys import domain
from bibmon_surveys import repository as repo
from bibmon_surveys.deps import SurveysDeps
from bibmon_surveys.domain import Status
from bibmon_surveys.models import (
    ParticipantList,
    ParticipantOut,
    QuestionnaireOut,
    SurveyOut,
    SurveyPage,
)
from bibmon_surveys.repository import Conn, Row
from bibmon_surveys.usecases.presenting import is_manager, participant_spec, present


async def _visible_survey(conn: Conn, principal: Principal, survey_id: UUID) -> Row:
    """A survey the caller may see: managers all; staff published ones of their organisation."""
    row = await repo.get_survey(conn, survey_id)
    if row is not None and (
        is_manager(principal)
        or (
            row["published_at"] is not None
            and principal.has_role("library_staff")
            and principal.organisation_id is not None
            and await repo.is_participant(conn, survey_id, principal.organisation_id)
        )
    ):
        return row
    # Staff learn nothing about drafts or surveys of other organisations: 404, not 403.
    raise NotFound("The survey does not exist.")


async def get_survey(deps: SurveysDeps, principal: Principal, survey_id: UUID) -> SurveyOut:
    """One survey the caller may see, or 404."""
    async with deps.connection() as conn:
        row = await _visible_survey(conn, principal, survey_id)
    return present(row, deps.now())


async def list_surveys(
    deps: SurveysDeps,
    principal: Principal,
    *,
    status: Status | None,
    series_key: str | None,
    limit: int,
    offset: int,
) -> SurveyPage:
    """A page of the surveys the caller may see, latest opening first."""
    now = deps.now()
    manager = is_manager(principal)
    if not manager and (
        principal.organisation_id is None or not principal.has_role("library_staff")
    ):
        return SurveyPage(items=[], total=0, limit=limit, offset=offset)
    async with deps.connection() as conn:
        rows, total = await repo.list_surveys(
            conn,
            now=now,
            status=status.value if status else None,
            series_key=series_key,
            organisation_id=None if manager else principal.organisation_id,
            published_only=not manager,
            limit=limit,
            offset=offset,
        )
    return SurveyPage(
        items=[present(r, now) for r in rows], total=total, limit=limit, offset=offset
    )


async def get_questionnaire(
    deps: SurveysDeps, principal: Principal, survey_id: UUID, version: int | None
) -> QuestionnaireOut:
    """A frozen questionnaire version (default: the latest); a draft's working copy for managers."""
    async with deps.connection() as conn:
        row = await _visible_survey(conn, principal, survey_id)
        if version is None and row["published_at"] is None:
            if row["questionnaire"] is None:
                raise NotFound("The survey has no questionnaire yet.")
            return QuestionnaireOut.model_validate(
                {
                    "survey_id": survey_id,
                    "version": None,
                    "questionnaire": row["questionnaire"],
                    "published_at": None,
                }
            )
        frozen = await repo.get_questionnaire_version(
            conn, survey_id, version if version is not None else row["questionnaire_version"]
        )
    if frozen is None:
        raise NotFound("The survey has no questionnaire with this version.")
    return QuestionnaireOut.model_validate(dict(frozen))


async def list_participants(deps: SurveysDeps, survey_id: UUID) -> ParticipantList:
    """Participants: those resolved at publishing, or for a draft a preview from the register."""
    async with deps.connection() as conn:
        row = await repo.get_survey(conn, survey_id)
        if row is None:
            raise NotFound("The survey does not exist.")
        if row["published_at"] is not None:
            items = [dict(r) for r in await repo.participants(conn, survey_id)]
        else:
            organisations = await list_organisations(conn)
            chosen = set(domain.resolve(participant_spec(row["participants"]), organisations))
            items = [dict(o) for o in organisations if o["id"] in chosen]
    return ParticipantList(
        survey_id=survey_id,
        preview=row["published_at"] is None,
        total=len(items),
        items=[ParticipantOut.model_validate(item) for item in items],
    )
