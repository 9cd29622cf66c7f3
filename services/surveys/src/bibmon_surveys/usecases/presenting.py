"""What the use cases share: a survey as the API shows it and as events carry it, request
values as the columns hold them, and the errors they raise."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bibmon_common.auth import Principal
from bibmon_common.errors import InvalidInput
from bibmon_common.events import Message
from bibmon_common.messaging import outbox
from bibmon_common.questionnaire import Questionnaire
from bibmon_surveys import domain
from bibmon_surveys import repository as repo
from bibmon_surveys.deps import SurveysDeps
from bibmon_surveys.domain import Status
from bibmon_surveys.models import SurveyOut
from bibmon_surveys.repository import Conn, Row

MANAGERS = ("researcher", "kb_admin")


def is_manager(principal: Principal) -> bool:
    """Researchers and KB administrators design, publish and close surveys."""
    return principal.has_role(*MANAGERS)


def status_at(row: Row, now: datetime) -> Status:
    """The survey's status at `now` (domain.status)."""
    return domain.status(
        published_at=row["published_at"],
        closed_at=row["closed_at"],
        opens_at=row["opens_at"],
        closes_at=row["closes_at"],
        now=now,
    )


def present(row: Row, now: datetime) -> SurveyOut:
    """A survey as the API shows it."""
    ids = row["participant_ids"]
    return SurveyOut(
        id=row["id"],
        series_key=row["series_key"],
        title=row["title"],
        description=row["description"],
        mandatory=row["mandatory"],
        legal_basis=row["legal_basis"],
        legal_basis_name=row["legal_basis_name"],
        opens_at=row["opens_at"],
        closes_at=row["closes_at"],
        participants=domain.PARTICIPANTS.validate_python(row["participants"]),
        participant_ids=list(ids) if ids is not None else None,
        status=status_at(row, now),
        questionnaire=(
            None
            if row["questionnaire"] is None
            else Questionnaire.model_validate(row["questionnaire"])
        ),
        questionnaire_version=row["questionnaire_version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        published_at=row["published_at"],
        closed_at=row["closed_at"],
    )


def facts(row: Row) -> dict[str, Any]:
    """The survey facts every SurveyPublished, SurveyUpdated and SurveyReplayed carries."""
    return {
        "survey_id": row["id"],
        "series_key": row["series_key"],
        "title": row["title"],
        "description": row["description"],
        "mandatory": row["mandatory"],
        "legal_basis": row["legal_basis"],
        "legal_basis_name": row["legal_basis_name"],
        "opens_at": row["opens_at"],
        "closes_at": row["closes_at"],
        "participants": tuple(row["participant_ids"] or ()),
    }


async def enqueue(conn: Conn, deps: SurveysDeps, message: Message) -> None:
    """Put an event in the outbox, inside the caller's transaction."""
    await outbox.enqueue(conn, message, source=deps.source)


def invalid(errors: list[dict[str, str]]) -> InvalidInput:
    """The 422 of these field errors."""
    detail = errors[0]["message"] if len(errors) == 1 else "One or more fields are invalid."
    return InvalidInput(detail, errors=errors)


def as_columns(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Request values as the columns hold them (JSON for the spec and the questionnaire),
    and the errors of normalising the participants."""
    values = dict(data)
    errors: list[dict[str, str]] = []
    if values.get("participants") is not None:
        spec, errors = domain.normalise_participants(values["participants"])
        values["participants"] = spec.model_dump(mode="json")
    if isinstance(values.get("questionnaire"), Questionnaire):
        values["questionnaire"] = values["questionnaire"].model_dump(mode="json")
    return values, errors


def participant_spec(column: dict[str, Any]) -> domain.ParticipantSpec:
    """The participants column as its specification."""
    return domain.PARTICIPANTS.validate_python(column)


async def participant_errors(conn: Conn, spec: domain.ParticipantSpec) -> list[dict[str, str]]:
    """Organisations of a list that the read model does not know."""
    if not isinstance(spec, domain.OrganisationList) or not spec.organisation_ids:
        return []
    known = await repo.known_organisation_ids(conn, spec.organisation_ids)
    return domain.unknown_organisations(spec, known)
