"""Messages produced by the identity service.

Events only; none carries personal data (no names, e-mail addresses or usernames of
people). Organisation names are public facts about libraries, not personal data.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, Field

from bibmon_common.events import Event, register


class _OrganisationFacts(Event):
    organisation_id: UUID
    name: str
    province: str
    municipalities: tuple[str, ...] = ()
    inhabitants: int = Field(ge=0)
    size_class: str


@register
class OrganisationRegistered(_OrganisationFacts):
    """Sent once when a library organisation is added to the register.

    A consumer may rely on: `organisation_id` is new and stable forever; the other fields
    are the organisation's state at registration (later changes come as
    `identity.organisation.updated.v1`).
    """

    type: ClassVar[str] = "identity.organisation.registered.v1"


@register
class OrganisationUpdated(_OrganisationFacts):
    """Sent after any change to an organisation's name, province, municipalities or size.

    A consumer may rely on: the payload is the complete current state (not a diff), so
    the latest event by envelope `time` wins; events may arrive out of order or twice.
    """

    type: ClassVar[str] = "identity.organisation.updated.v1"


@register
class AccountRequested(Event):
    """Sent when someone asks for an account for an organisation (awaiting a KB admin).

    A consumer may rely on: `account_request_id` identifies the pending request; the
    requester's name and address stay in identity (the confirmation mail is a separate
    `notifier.send_email.v1` command).
    """

    type: ClassVar[str] = "identity.account.requested.v1"

    account_request_id: UUID
    organisation_id: UUID


@register
class AccountCreated(Event):
    """Sent when an account exists (request approved or created by a KB admin).

    A consumer may rely on: `user_id` is the person's stable pseudonym in every other
    service; `organisation_id` is null only for KB-wide roles (kb_admin, researcher).
    """

    type: ClassVar[str] = "identity.account.created.v1"

    user_id: UUID
    organisation_id: UUID | None = None
    roles: tuple[str, ...] = ()


@register
class UserErased(Event):
    """Sent when a user's personal data is erased (AVG art. 17) or the account is deleted.

    A consumer must drop every reference that links `user_id` to anything personal
    (e.g. contact-person links); the id itself will never be reused.
    """

    type: ClassVar[str] = "identity.user.erased.v1"

    user_id: UUID


@register
class ContactPersonAssigned(Event):
    """Sent when a user becomes an organisation's contact person for a survey.

    A consumer may rely on: at most one contact person per (survey, organisation); a
    later event for the same pair replaces the earlier one.
    """

    type: ClassVar[str] = "identity.contact_person.assigned.v1"

    survey_id: UUID
    organisation_id: UUID
    user_id: UUID


@register
class SessionRevoked(Event):
    """Sent when login sessions end before their time.

    On logout, refresh-token reuse, a disabled account, changed roles or organisation, a
    reset password or second factor. `session_ids` are the sessions' ids, the `sid` claim
    of their access tokens; `user_id` is the person's pseudonym. A consumer must refuse
    access tokens with one of these `sid`s until `expires_at`, after which every access
    token of the sessions has expired anyway (so the record may be dropped).
    """

    type: ClassVar[str] = "identity.session.revoked.v1"

    user_id: UUID
    session_ids: tuple[UUID, ...] = Field(min_length=1)
    expires_at: AwareDatetime
