"""Survey endpoints under /api/surveys."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, status

from bibmon_common.auth import CurrentPrincipal, Researcher
from bibmon_surveys import usecases
from bibmon_surveys.deps import Deps
from bibmon_surveys.domain import SERIES_KEY_PATTERN, Status
from bibmon_surveys.models import (
    ParticipantList,
    QuestionnaireOut,
    SurveyIn,
    SurveyOut,
    SurveyPage,
    SurveyPatch,
)

router = APIRouter(tags=["surveys"])

# Query integers go to PostgreSQL as bind parameters: bounded, so an absurd one is a 422
# and never an int64 / int32 overflow in the driver.
MAX_OFFSET = 1_000_000
MAX_VERSION = 2**31 - 1  # questionnaire_version.version is an integer (int4)


_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in"},
    403: {"description": "Your role does not allow this"},
    404: {"description": "No such survey (or not one you may see)"},
}


@router.get("/surveys", response_model=SurveyPage, summary="List surveys", responses=_PROBLEMS)
async def list_surveys(
    principal: CurrentPrincipal,
    deps: Deps,
    status: Status | None = None,
    series_key: Annotated[str | None, Query(pattern=SERIES_KEY_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SurveyPage:
    """Researchers and KB admins: every survey; library staff: the published surveys
    their organisation takes part in."""
    return await usecases.list_surveys(
        deps,
        principal,
        status=status,
        series_key=series_key,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/surveys",
    status_code=status.HTTP_201_CREATED,
    response_model=SurveyOut,
    summary="Create a draft survey (researcher, kb_admin)",
    responses=_PROBLEMS,
)
async def create_survey(body: SurveyIn, principal: Researcher, deps: Deps) -> SurveyOut:
    """A mandatory survey names its legal basis; a voluntary one has none."""
    return await usecases.create_survey(deps, body)


@router.get(
    "/surveys/{survey_id}", response_model=SurveyOut, summary="One survey", responses=_PROBLEMS
)
async def get_survey(survey_id: UUID, principal: CurrentPrincipal, deps: Deps) -> SurveyOut:
    """Library staff see only published surveys their organisation takes part in."""
    return await usecases.get_survey(deps, principal, survey_id)


@router.patch(
    "/surveys/{survey_id}",
    response_model=SurveyOut,
    summary="Change a survey (researcher, kb_admin)",
    responses={**_PROBLEMS, 409: {"description": "The survey is closed"}},
)
async def update_survey(
    survey_id: UUID, body: SurveyPatch, principal: Researcher, deps: Deps
) -> SurveyOut:
    """A draft changes freely. Once published only title, description, closes_at and the
    questionnaire change; a new questionnaire becomes the next frozen version."""
    return await usecases.update_survey(deps, survey_id, body)


@router.post(
    "/surveys/{survey_id}/publish",
    response_model=SurveyOut,
    summary="Publish a draft survey (researcher, kb_admin)",
    responses={**_PROBLEMS, 409: {"description": "Already published"}},
)
async def publish_survey(survey_id: UUID, principal: Researcher, deps: Deps) -> SurveyOut:
    """Resolve and freeze the participants and questionnaire version 1."""
    return await usecases.publish_survey(deps, survey_id)


@router.post(
    "/surveys/{survey_id}/close",
    response_model=SurveyOut,
    summary="Close a survey before its deadline (researcher, kb_admin)",
    responses={**_PROBLEMS, 409: {"description": "A draft, or already closed"}},
)
async def close_survey(survey_id: UUID, principal: Researcher, deps: Deps) -> SurveyOut:
    """No organisation can submit afterwards."""
    return await usecases.close_survey(deps, survey_id)


@router.get(
    "/surveys/{survey_id}/questionnaire",
    response_model=QuestionnaireOut,
    summary="A questionnaire version of a survey",
    responses=_PROBLEMS,
)
async def get_questionnaire(
    survey_id: UUID,
    principal: CurrentPrincipal,
    deps: Deps,
    version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
) -> QuestionnaireOut:
    """Without `version` the latest published version (a draft: its working copy)."""
    return await usecases.get_questionnaire(deps, principal, survey_id, version)


@router.get(
    "/surveys/{survey_id}/participants",
    response_model=ParticipantList,
    summary="The participating organisations (researcher, kb_admin)",
    responses=_PROBLEMS,
)
async def list_participants(survey_id: UUID, principal: Researcher, deps: Deps) -> ParticipantList:
    """Resolved at publishing; for a draft a preview resolved from the register now."""
    return await usecases.list_participants(deps, survey_id)
