"""Review of responses by researchers, and the progress of a survey (researcher, kb_admin).

Role matrix (docs/reliability.md 5.7): a researcher reads answers, accepts and returns; a
kb_admin sees progress and may reopen a response for a correction, but reads no answers
(the reopen answer carries status only).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter

from bibmon_responses import usecases
from bibmon_responses.api.access import AnswerReader, Manager, Reopener
from bibmon_responses.deps import Deps
from bibmon_responses.models import (
    HistoryOut,
    ProgressOut,
    ReopenIn,
    ResponseOut,
    ResponseStatusOut,
    ReturnIn,
)

router = APIRouter(
    tags=["review"],
    responses={
        401: {"description": "Not logged in"},
        403: {"description": "Your role does not allow this"},
        404: {"description": "Unknown survey, or an organisation that does not take part"},
    },
)

_BASE = "/surveys/{survey_id}/responses/{organisation_id}"
_WRONG_STATE: dict[int | str, dict[str, Any]] = {
    409: {"description": "The response is not in a state that allows this"}
}


@router.get(
    "/surveys/{survey_id}/progress",
    response_model=ProgressOut,
    summary="Status of every participating organisation (researcher, kb_admin)",
)
async def progress(survey_id: UUID, _: Manager, deps: Deps) -> ProgressOut:
    """Counts per status and one line per organisation."""
    return await usecases.progress(deps, survey_id)


@router.get(_BASE, response_model=ResponseOut, summary="One organisation's response")
async def get_response(
    survey_id: UUID, organisation_id: UUID, _: AnswerReader, deps: Deps
) -> ResponseOut:
    """The full response, with its explanations and warnings."""
    return await usecases.get_response(deps, survey_id, organisation_id)


@router.post(
    f"{_BASE}/accept", response_model=ResponseOut, summary="Accept", responses=_WRONG_STATE
)
async def accept(
    survey_id: UUID, organisation_id: UUID, _: AnswerReader, deps: Deps
) -> ResponseOut:
    """Accept a submitted response."""
    return await usecases.accept(deps, survey_id, organisation_id)


@router.post(
    f"{_BASE}/return", response_model=ResponseOut, summary="Return", responses=_WRONG_STATE
)
async def return_response(
    survey_id: UUID, organisation_id: UUID, body: ReturnIn, _: AnswerReader, deps: Deps
) -> ResponseOut:
    """Send a submitted response back with a remark; the organisation can edit it again."""
    return await usecases.return_response(deps, survey_id, organisation_id, body.remark)


@router.post(
    f"{_BASE}/reopen",
    response_model=ResponseStatusOut,
    summary="Reopen (researcher, kb_admin)",
    responses=_WRONG_STATE,
)
async def reopen(
    survey_id: UUID, organisation_id: UUID, body: ReopenIn, _: Reopener, deps: Deps
) -> ResponseOut:
    """After the survey closed: let the organisation correct and submit its response."""
    return await usecases.reopen(deps, survey_id, organisation_id, body.reason)


@router.get(f"{_BASE}/history", response_model=HistoryOut, summary="Every submitted version")
async def history(
    survey_id: UUID, organisation_id: UUID, _: AnswerReader, deps: Deps
) -> HistoryOut:
    """Each submission with its answers, explanations, warnings and review."""
    return await usecases.history(deps, survey_id, organisation_id)
