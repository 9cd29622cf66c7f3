"""The organisation's own response: read, save (autosave), submit."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from bibmon_responses import usecases
from bibmon_responses.api.access import OwnOrganisation
from bibmon_responses.deps import Deps
from bibmon_responses.models import ConflictProblem, ResponseOut, SaveIn, SubmitIn

router = APIRouter(
    tags=["response"],
    responses={
        401: {"description": "Not logged in"},
        403: {"description": "Only library staff of an organisation have a response"},
    },
)

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown survey, or one the organisation does not take part in"}
}


@router.get(
    "/surveys/{survey_id}/response",
    response_model=ResponseOut,
    summary="The own organisation's response (library staff)",
    responses=_NOT_FOUND,
)
async def get_response(
    survey_id: UUID, organisation_id: OwnOrganisation, deps: Deps
) -> ResponseOut:
    """Answers, status, plausibility warnings and last time's answers; `not_started` before
    the first save."""
    return await usecases.get_response(deps, survey_id, organisation_id)


@router.put(
    "/surveys/{survey_id}/response",
    response_model=ResponseOut,
    summary="Save some answers (library staff)",
    responses={
        **_NOT_FOUND,
        409: {
            "model": ConflictProblem,
            "description": "Answers changed by someone else since `version`, survey closed, "
            "or response submitted",
        },
        422: {"description": "Invalid answers, per question"},
    },
)
async def save_response(
    survey_id: UUID, body: SaveIn, organisation_id: OwnOrganisation, deps: Deps
) -> ResponseOut:
    """Only the questions sent change. A save based on an older `version` still succeeds
    when none of its questions changed since; otherwise 409 names them and nothing is
    written."""
    return await usecases.save_answers(deps, survey_id, organisation_id, body.answers, body.version)


@router.post(
    "/surveys/{survey_id}/response/submit",
    response_model=ResponseOut,
    summary="Submit the response (library staff)",
    responses={
        **_NOT_FOUND,
        409: {"description": "Survey closed (and the response not reopened), or not editable"},
        422: {"description": "Per question: invalid or missing answers, missing explanations"},
    },
)
async def submit_response(
    survey_id: UUID,
    organisation_id: OwnOrganisation,
    deps: Deps,
    body: SubmitIn | None = None,
) -> ResponseOut:
    """Checks every visible required question and asks an explanation for each warning."""
    explanations = body.explanations if body else {}
    return await usecases.submit(deps, survey_id, organisation_id, explanations)
