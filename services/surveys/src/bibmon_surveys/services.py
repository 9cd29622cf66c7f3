"""Use cases of the surveys service; the only place a transaction is opened."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from bibmon_common.auth import Principal
from bibmon_common.clock import Clock
from bibmon_common.contracts.surveys import (
    QuestionnairePublished,
    SurveyClosed,
    SurveyPublished,
    SurveyReplayed,
    SurveyUpdated,
)
from bibmon_common.errors import Conflict, InvalidInput, NotFound, field_error
from bibmon_common.events import Message
from bibmon_common.messaging import outbox
from bibmon_common.projections import list_organisations
from bibmon_common.questionnaire import Questionnaire
from bibmon_surveys import domain
from bibmon_surveys import repository as repo
from bibmon_surveys.domain import Status
from bibmon_surveys.repository import Conn, Row

log = structlog.get_logger(__name__)

SOURCE = "surveys"  # CloudEvents `source` of everything surveys enqueues
MANAGERS = ("researcher", "kb_admin")
_NOT_NULL = ("title", "description", "mandatory", "opens_at", "closes_at", "participants")
_FACTS_IN_UPDATE = ("title", "description", "closes_at")


def is_manager(principal: Principal) -> bool:
    """Researchers and KB administrators design, publish and close surveys."""
    return principal.has_role(*MANAGERS)


def _status(row: Row, now: datetime) -> Status:
    return domain.status(
        published_at=row["published_at"],
        closed_at=row["closed_at"],
        opens_at=row["opens_at"],
        closes_at=row["closes_at"],
        now=now,
    )


def present(row: Row, now: datetime) -> dict[str, Any]:
    """A survey as the API shows it."""
    ids = row["participant_ids"]
    return {
        "id": row["id"],
        "series_key": row["series_key"],
        "title": row["title"],
        "description": row["description"],
        "mandatory": row["mandatory"],
        "legal_basis": row["legal_basis"],
        "legal_basis_name": row["legal_basis_name"],
        "opens_at": row["opens_at"],
        "closes_at": row["closes_at"],
        "participants": row["participants"],
        "participant_ids": list(ids) if ids is not None else None,
        "status": _status(row, now).value,
        "questionnaire": row["questionnaire"],
        "questionnaire_version": row["questionnaire_version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "published_at": row["published_at"],
        "closed_at": row["closed_at"],
    }


def _facts(row: Row) -> dict[str, Any]:
    """The survey facts every SurveyPublished and SurveyUpdated carries."""
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


async def _enqueue(conn: Conn, message: Message) -> None:
    await outbox.enqueue(conn, message, source=SOURCE)


def _invalid(errors: list[dict[str, str]]) -> InvalidInput:
    detail = errors[0]["message"] if len(errors) == 1 else "One or more fields are invalid."
    return InvalidInput(detail, errors=errors)


async def _participant_errors(conn: Conn, spec: domain.ParticipantSpec) -> list[dict[str, str]]:
    if not isinstance(spec, domain.OrganisationList) or not spec.organisation_ids:
        return []
    known = await repo.known_organisation_ids(conn, spec.organisation_ids)
    return domain.unknown_organisations(spec, known)


def _stored(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Request values as columns hold them (JSON for the spec and the questionnaire)."""
    values = dict(data)
    errors: list[dict[str, str]] = []
    if values.get("participants") is not None:
        spec, errors = domain.normalise_participants(values["participants"])
        values["participants"] = spec.model_dump(mode="json")
    if isinstance(values.get("questionnaire"), Questionnaire):
        values["questionnaire"] = values["questionnaire"].model_dump(mode="json")
    return values, errors


def _spec(stored: dict[str, Any]) -> domain.ParticipantSpec:
    return domain.PARTICIPANTS.validate_python(stored)


# --- reading ---------------------------------------------------------------------------


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


async def get_survey(
    conn: Conn, clock: Clock, principal: Principal, survey_id: UUID
) -> dict[str, Any]:
    """One survey the caller may see, or 404."""
    return present(await _visible_survey(conn, principal, survey_id), clock.now())


async def list_surveys(
    conn: Conn,
    clock: Clock,
    principal: Principal,
    *,
    status: Status | None,
    series_key: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """A page of the surveys the caller may see, latest opening first."""
    now = clock.now()
    page = {"limit": limit, "offset": offset}
    manager = is_manager(principal)
    if not manager and (
        principal.organisation_id is None or not principal.has_role("library_staff")
    ):
        return {"items": [], "total": 0, **page}
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
    return {"items": [present(r, now) for r in rows], "total": total, **page}


async def get_questionnaire(
    conn: Conn, principal: Principal, survey_id: UUID, version: int | None
) -> dict[str, Any]:
    """A frozen questionnaire version (default: the latest); a draft's working copy for managers."""
    row = await _visible_survey(conn, principal, survey_id)
    if version is None and row["published_at"] is None:
        if row["questionnaire"] is None:
            raise NotFound("The survey has no questionnaire yet.")
        return {
            "survey_id": survey_id,
            "version": None,
            "questionnaire": row["questionnaire"],
            "published_at": None,
        }
    frozen = await repo.get_questionnaire_version(
        conn, survey_id, version if version is not None else row["questionnaire_version"]
    )
    if frozen is None:
        raise NotFound("The survey has no questionnaire with this version.")
    return dict(frozen)


async def list_participants(conn: Conn, survey_id: UUID) -> dict[str, Any]:
    """Participants: those resolved at publishing, or for a draft a preview from the register."""
    row = await repo.get_survey(conn, survey_id)
    if row is None:
        raise NotFound("The survey does not exist.")
    if row["published_at"] is not None:
        items = [dict(r) for r in await repo.participants(conn, survey_id)]
    else:
        organisations = await list_organisations(conn)
        chosen = set(domain.resolve(_spec(row["participants"]), organisations))
        items = [dict(o) for o in organisations if o["id"] in chosen]
    return {
        "survey_id": survey_id,
        "preview": row["published_at"] is None,
        "total": len(items),
        "items": items,
    }


# --- designing -------------------------------------------------------------------------


async def _series_errors(
    conn: Conn, survey_id: UUID, series_key: str | None, questionnaire: Any
) -> list[dict[str, str]]:
    """A question keeps its key *and* type across the versions of a survey and across the
    surveys of a series, so answers and figures stay comparable: a key that a published
    version used with another type is refused. The caller holds the series lock."""
    if questionnaire is None:
        return []
    own: dict[str, tuple[str, int]] = {}
    series: dict[str, tuple[str, str]] = {}
    for row in await repo.series_questionnaires(conn, survey_id, series_key):
        for question in Questionnaire.model_validate(row["questionnaire"]).questions():
            if row["own"]:
                own.setdefault(question.key, (question.type, row["version"]))
            else:
                series.setdefault(question.key, (question.type, row["title"]))
    errors = []
    for question in Questionnaire.model_validate(questionnaire).questions():
        key = question.key
        if key in own and own[key][0] != question.type:
            errors.append(
                field_error(
                    f"questionnaire.{key}",
                    f"The question {key!r} is a {own[key][0]} question in version "
                    f"{own[key][1]} of this survey; a question keeps its key and type across "
                    "versions, so give a different question a new key.",
                    "version_type_mismatch",
                )
            )
        elif key in series and series[key][0] != question.type:
            errors.append(
                field_error(
                    f"questionnaire.{key}",
                    f"In the series {series_key!r} the question {key!r} is a "
                    f"{series[key][0]} question (survey {series[key][1]!r}); a question keeps "
                    "its key and type across the series, so keep its type or give a "
                    "different question a new key.",
                    "series_type_mismatch",
                )
            )
    return errors


async def create_survey(pool: asyncpg.Pool, clock: Clock, data: dict[str, Any]) -> dict[str, Any]:
    """Create a draft survey (researcher, kb_admin)."""
    values, errors = _stored(data)
    errors += domain.fact_errors(values)
    now = clock.now()
    survey_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        errors += await _participant_errors(conn, _spec(values["participants"]))
        await repo.lock_series(conn, values.get("series_key"))
        errors += await _series_errors(
            conn, survey_id, values.get("series_key"), values.get("questionnaire")
        )
        if errors:
            raise _invalid(errors)
        await repo.insert_survey(conn, values | {"id": survey_id, "created_at": now})
        row = await repo.get_survey(conn, survey_id)
    assert row is not None
    log.info("survey.created", survey_id=str(survey_id))
    return present(row, now)


async def update_survey(
    pool: asyncpg.Pool, clock: Clock, survey_id: UUID, data: dict[str, Any]
) -> dict[str, Any]:
    """Change a survey: a draft freely; a published one only its title, description,
    deadline and questionnaire (a new version); a closed one not at all."""
    now = clock.now()
    errors = [
        field_error(name, "This field may not be null.", "null")
        for name in _NOT_NULL
        if name in data and data[name] is None
    ]
    if errors:
        raise _invalid(errors)
    changes, errors = _stored(data)
    async with pool.acquire() as conn, conn.transaction():
        row = await repo.get_survey(conn, survey_id, for_update=True)
        if row is None:
            raise NotFound("The survey does not exist.")
        if _status(row, now) is Status.CLOSED:
            raise Conflict("The survey is closed and can no longer be changed.", type_="closed")
        published = row["published_at"] is not None
        current = dict(row)
        if published:
            errors += [
                field_error(
                    name,
                    f"{name} is fixed once the survey is published and cannot be changed.",
                    "frozen",
                )
                for name in domain.frozen_changes(current, changes)
            ]
            if "questionnaire" in changes and changes["questionnaire"] is None:
                errors.append(
                    field_error(
                        "questionnaire",
                        "A published survey keeps a questionnaire; send a new version instead.",
                        "null",
                    )
                )
            if "closes_at" in changes:
                errors += domain.deadline_errors(changes["closes_at"], now)
            # A frozen field already has its error; check the rest against what stays.
            checked = {k: v for k, v in changes.items() if k not in domain.FROZEN_AFTER_PUBLISH}
        else:
            checked = changes
        errors += domain.fact_errors(current | checked)
        if "participants" in changes and not published:
            errors += await _participant_errors(conn, _spec(changes["participants"]))
        if "questionnaire" in checked or "series_key" in checked:
            merged = current | checked
            await repo.lock_series(conn, merged["series_key"])
            errors += await _series_errors(
                conn, survey_id, merged["series_key"], merged["questionnaire"]
            )
        if errors:
            raise _invalid(errors)
        fields = {k: v for k, v in changes.items() if v != current[k]}
        if not fields:
            return present(row, now)
        new_version: int | None = None
        if published and "questionnaire" in fields:
            new_version = row["questionnaire_version"] + 1
            await repo.insert_questionnaire_version(
                conn, survey_id, new_version, fields["questionnaire"], now
            )
            fields["questionnaire_version"] = new_version
            await _enqueue(
                conn,
                QuestionnairePublished(
                    survey_id=survey_id,
                    questionnaire_version=new_version,
                    questionnaire=Questionnaire.model_validate(fields["questionnaire"]),
                ),
            )
        await repo.update_survey(conn, survey_id, fields | {"updated_at": now})
        updated = await repo.get_survey(conn, survey_id)
        assert updated is not None
        if published and any(name in fields for name in _FACTS_IN_UPDATE):
            await _enqueue(conn, SurveyUpdated(**_facts(updated)))
    log.info("survey.updated", survey_id=str(survey_id), fields=sorted(fields))
    if new_version is not None:
        log.info("questionnaire.published", survey_id=str(survey_id), version=new_version)
    return present(updated, now)


async def publish_survey(pool: asyncpg.Pool, clock: Clock, survey_id: UUID) -> dict[str, Any]:
    """Publish a complete draft: freeze questionnaire version 1 and the participants."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        row = await repo.get_survey(conn, survey_id, for_update=True)
        if row is None:
            raise NotFound("The survey does not exist.")
        if row["published_at"] is not None:
            raise Conflict("The survey is already published.", type_="already-published")
        errors = domain.fact_errors(dict(row))
        if row["questionnaire"] is None:
            errors.append(
                field_error("questionnaire", "Add a questionnaire before publishing.", "required")
            )
        errors += domain.deadline_errors(row["closes_at"], now)
        spec = _spec(row["participants"])
        organisations = await list_organisations(conn)
        unknown = domain.unknown_organisations(spec, (o["id"] for o in organisations))
        resolved = domain.resolve(spec, organisations)
        errors += unknown
        await repo.lock_series(conn, row["series_key"])
        errors += await _series_errors(conn, survey_id, row["series_key"], row["questionnaire"])
        if not resolved and not unknown:
            errors.append(
                field_error(
                    "participants",
                    "No organisation takes part; choose at least one.",
                    "no_participants",
                )
            )
        if errors:
            raise _invalid(errors)
        published = await publish_checked(conn, row, resolved, now)
    log.info("survey.published", survey_id=str(survey_id), participants=len(resolved))
    return present(published, now)


async def publish_checked(
    conn: Conn, row: Row, participants: list[UUID], published_at: datetime
) -> Row:
    """Publish a draft that passed the checks, inside the caller's transaction: freeze the
    participants and questionnaire version 1, and announce it (SurveyPublished)."""
    survey_id = row["id"]
    await repo.insert_participants(conn, survey_id, participants)
    await repo.insert_questionnaire_version(conn, survey_id, 1, row["questionnaire"], published_at)
    await repo.update_survey(
        conn,
        survey_id,
        {"published_at": published_at, "questionnaire_version": 1, "updated_at": published_at},
    )
    published = await repo.get_survey(conn, survey_id)
    assert published is not None
    await _enqueue(
        conn,
        SurveyPublished(
            **_facts(published),
            questionnaire_version=1,
            questionnaire=Questionnaire.model_validate(published["questionnaire"]),
        ),
    )
    return published


# --- closing ---------------------------------------------------------------------------


async def close_survey(pool: asyncpg.Pool, clock: Clock, survey_id: UUID) -> dict[str, Any]:
    """Close a published survey by hand, before its deadline."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        row = await repo.get_survey(conn, survey_id, for_update=True)
        if row is None:
            raise NotFound("The survey does not exist.")
        if row["published_at"] is None:
            raise Conflict("A draft cannot be closed; publish it first.", type_="not-published")
        if _status(row, now) is Status.CLOSED:
            raise Conflict("The survey is already closed.", type_="already-closed")
        await repo.update_survey(
            conn, survey_id, {"closed_at": now, "closed_by_hand": True, "updated_at": now}
        )
        await _enqueue(conn, SurveyClosed(survey_id=survey_id, closed_at=now, by_hand=True))
        closed = await repo.get_survey(conn, survey_id)
    assert closed is not None
    log.info("survey.closed", survey_id=str(survey_id), by_hand=True)
    return present(closed, now)


async def close_at_deadline(
    conn: Conn, now: datetime, survey_ids: Sequence[UUID] | None = None
) -> list[Row]:
    """Close the published surveys past their deadline (only `survey_ids`, when given)
    inside the caller's transaction, `closed_at` = `closes_at`, and announce each once."""
    rows = await repo.close_due(conn, now, survey_ids)
    for row in rows:
        await _enqueue(
            conn, SurveyClosed(survey_id=row["id"], closed_at=row["closed_at"], by_hand=False)
        )
    return rows


async def close_due_surveys(pool: asyncpg.Pool, clock: Clock) -> list[UUID]:
    """Close every published survey whose deadline has passed; each exactly once."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await close_at_deadline(conn, clock.now())
    for row in rows:
        log.info("survey.closed", survey_id=str(row["id"]), by_hand=False)
    return [row["id"] for row in rows]


# --- replay for reporting's rebuild ----------------------------------------------------------


async def replay_surveys(conn: Conn, replay_id: UUID) -> int:
    """Re-publish every published survey as `surveys.survey.replayed.v1` (ADR 0012).

    Runs in the consumer's transaction, so the replay is in the outbox once or not at all.
    """
    rows = await repo.published_surveys(conn)
    for row in rows:
        await _enqueue(
            conn,
            SurveyReplayed(
                **_facts(row),
                questionnaire_versions=tuple(row["versions"] or ()),
                closed_at=row["closed_at"],
            ),
        )
    log.info("replay.surveys", replay_id=str(replay_id), count=len(rows))
    return len(rows)
