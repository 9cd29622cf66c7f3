"""Contact persons: who receives a survey's e-mails for an organisation."""

from __future__ import annotations

import uuid

import structlog

from bibmon_common.auth import Principal
from bibmon_common.contracts.identity import ContactPersonAssigned
from bibmon_common.errors import InvalidInput, NotFound, field_error
from bibmon_identity import repository as repo
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain.users import KB_ADMIN, LIBRARY_STAFF
from bibmon_identity.models import ContactOut, RecipientOut, StaffMemberOut, StaffPage
from bibmon_identity.repository import ContactRow
from bibmon_identity.usecases import audit
from bibmon_identity.usecases.mail import enqueue

log = structlog.get_logger(__name__)


def _check_access(principal: Principal, organisation_id: uuid.UUID) -> None:
    # ASVS 8.2.2/8.4.1: another organisation's data answers 404, so its existence stays hidden.
    if principal.has_role(KB_ADMIN):
        return
    if principal.has_role(LIBRARY_STAFF) and principal.organisation_id == organisation_id:
        return
    raise NotFound("No contact person is registered.")


def _present(row: ContactRow) -> ContactOut:
    return ContactOut.model_validate(row, from_attributes=True)


async def get_contact(
    deps: IdentityDeps,
    principal: Principal,
    survey_id: uuid.UUID,
    organisation_id: uuid.UUID,
) -> ContactOut:
    """The registered contact person, or 404."""
    _check_access(principal, organisation_id)
    async with deps.connection() as conn:
        row = await repo.get_contact(conn, survey_id, organisation_id)
    if row is None:
        raise NotFound("No contact person is registered.")
    return _present(row)


async def colleagues(
    deps: IdentityDeps, principal: Principal, organisation_id: uuid.UUID
) -> StaffPage:
    """Who may be named contact person: the organisation's active staff (id and name only).

    Staff see their own organisation's, kb_admin any; others get 404 (as for contacts).
    """
    _check_access(principal, organisation_id)
    async with deps.connection() as conn:
        if await repo.get_organisation(conn, organisation_id) is None:
            raise NotFound("The organisation does not exist.")
        staff = await repo.active_staff_of(conn, organisation_id)
    return StaffPage(items=[StaffMemberOut(id=id_, name=name) for id_, name in staff])


async def assign_contact(
    deps: IdentityDeps,
    principal: Principal,
    survey_id: uuid.UUID,
    organisation_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    origin: str | None,
) -> ContactOut:
    """Register a staff member of the organisation as its contact person for the survey."""
    _check_access(principal, organisation_id)
    async with deps.transaction() as conn:
        if await repo.get_organisation(conn, organisation_id) is None:
            raise NotFound("The organisation does not exist.")
        user = await repo.get_user(conn, user_id)
        if (
            user is None
            or user.disabled
            or user.organisation_id != organisation_id
            or LIBRARY_STAFF not in user.roles
        ):
            message = "The contact person must be an active staff member of this organisation."
            raise InvalidInput(message, errors=[field_error("user_id", message, "not_a_member")])
        await repo.upsert_contact(conn, survey_id, organisation_id, user_id, principal.user_id)
        await enqueue(
            deps,
            conn,
            ContactPersonAssigned(
                survey_id=survey_id, organisation_id=organisation_id, user_id=user_id
            ),
        )
        await audit.record(
            conn,
            "contact_person.assigned",
            actor=principal.user_id,
            object_type="survey_contact",
            object_id=f"{survey_id}/{organisation_id}",
            origin=origin,
            user_id=str(user_id),
        )
        row = await repo.get_contact(conn, survey_id, organisation_id)
    assert row is not None
    return _present(row)


async def survey_recipient(
    deps: IdentityDeps, survey_id: uuid.UUID, organisation_id: uuid.UUID, *, caller: str
) -> RecipientOut:
    """For the notifier only: whom to send a survey's e-mail for an organisation, or 404.

    Survey contact person first, else the organisation's primary contact; the answer
    carries the address because the notifier keeps none (architecture.md, AVG art. 5(1)(c)).
    """
    async with deps.connection() as conn:
        row = await repo.survey_recipient(conn, survey_id, organisation_id)
    if row is None:
        log.info(
            "contact.recipient_missing",
            caller=caller,
            survey_id=str(survey_id),
            organisation_id=str(organisation_id),
        )
        raise NotFound("No contact person for this survey and organisation.")
    # Disclosure of personal data to another service: who, which object (ids only).
    log.info(
        "contact.recipient_disclosed",
        caller=caller,
        survey_id=str(survey_id),
        organisation_id=str(organisation_id),
        user_id=str(row.user_id),
        source=row.source,
    )
    return RecipientOut.model_validate(row, from_attributes=True)
