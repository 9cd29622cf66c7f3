"""Users: creation with an activation link, administration, AVG access and erasure."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from bibmon_common.contracts.identity import AccountCreated, UserErased
from bibmon_common.errors import Conflict, InvalidInput, NotFound, field_error
from bibmon_identity import repository as repo
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain.tokens import hash_token, new_token
from bibmon_identity.domain.users import (
    LIBRARY_STAFF,
    ROLES,
    derive_username,
    normalise_email,
    normalise_username,
    requires_mfa,
    valid_username,
)
from bibmon_identity.models import (
    AccountExport,
    ExportedAccount,
    ExportedAccountRequest,
    MeOut,
    UserIn,
    UserOut,
    UserPage,
)
from bibmon_identity.repository import Conn, OrganisationRow, UserRow
from bibmon_identity.usecases import audit
from bibmon_identity.usecases.mail import enqueue, send_email

log = structlog.get_logger(__name__)


def present(row: UserRow) -> UserOut:
    """A user as kb_admin and the user see it (never hashes or secrets)."""
    return UserOut(
        id=row.id,
        username=row.username,
        name=row.name,
        email=row.email,
        roles=list(row.roles),
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        mfa_enabled=row.totp_confirmed_at is not None,
        password_set=row.password_hash is not None,
        disabled=row.disabled,
        locale=row.locale,
        setup_required=row.setup_required,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


async def existing_user(conn: Conn, user_id: uuid.UUID, *, for_update: bool = False) -> UserRow:
    """A user's row, or 404."""
    row = await repo.get_user(conn, user_id, for_update=for_update)
    if row is None:
        raise NotFound("The user does not exist.")
    return row


def email_or_error(value: str, field: str = "email") -> str:
    """A normalised address or a 422 naming the field."""
    email = normalise_email(value)
    if email is None:
        message = "This is not a valid e-mail address."
        raise InvalidInput(message, errors=[field_error(field, message, "invalid_email")])
    return email


def _roles_or_error(roles: Sequence[str], field: str = "roles") -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        message = "Roles must be one or more of: " + ", ".join(sorted(ROLES)) + "."
        raise InvalidInput(message, errors=[field_error(field, message, "unknown_role")])
    return sorted(set(roles))


async def organisation_or_error(conn: Conn, organisation_id: uuid.UUID) -> OrganisationRow:
    """The organisation's row, or a 422 on `organisation_id`."""
    org = await repo.get_organisation(conn, organisation_id)
    if org is None:
        message = "Unknown organisation."
        raise InvalidInput(
            message, errors=[field_error("organisation_id", message, "unknown_organisation")]
        )
    return org


async def _organisation_for_roles(
    conn: Conn, roles: Sequence[str], organisation_id: uuid.UUID | None
) -> OrganisationRow | None:
    if organisation_id is None:
        if LIBRARY_STAFF in roles:
            message = "Library staff must belong to an organisation."
            raise InvalidInput(
                message, errors=[field_error("organisation_id", message, "required")]
            )
        return None
    return await organisation_or_error(conn, organisation_id)


async def free_username(conn: Conn, wanted: str | None, name: str, email: str) -> str:
    """The requested username (checked) or one derived from the e-mail address."""
    if wanted:
        username = normalise_username(wanted)
        if not valid_username(username):
            message = "A username has 3–64 lower-case letters, digits, dots, dashes or underscores."
            raise InvalidInput(message, errors=[field_error("username", message, "invalid")])
        if await repo.username_taken(conn, username):
            raise Conflict("This username is taken.", type_="username-taken")
        return username
    base = derive_username(name, email)
    candidate, n = base, 1
    while await repo.username_taken(conn, candidate):
        n += 1
        candidate = f"{base[:60]}-{n}"
    return candidate


async def create_account(
    deps: IdentityDeps,
    conn: Conn,
    *,
    username: str,
    name: str,
    email: str,
    roles: list[str],
    organisation: OrganisationRow | None,
) -> uuid.UUID:
    """Insert a user without a password; mail the welcome link; announce the account."""
    user_id = uuid.uuid4()
    organisation_id = organisation.id if organisation is not None else None
    await repo.insert_user(
        conn,
        id=user_id,
        username=username,
        name=name,
        email=email,
        roles=roles,
        organisation_id=organisation_id,
    )
    await enqueue(
        deps,
        conn,
        AccountCreated(user_id=user_id, organisation_id=organisation_id, roles=tuple(roles)),
    )
    await send_activation(
        deps,
        conn,
        user_id=user_id,
        username=username,
        name=name,
        email=email,
        organisation_name=organisation.name if organisation is not None else "",
    )
    return user_id


async def send_activation(
    deps: IdentityDeps,
    conn: Conn,
    *,
    user_id: uuid.UUID,
    username: str,
    name: str,
    email: str,
    organisation_name: str,
) -> None:
    """Store a set-password link (72 h) and mail it in the welcome e-mail."""
    token = new_token()
    hours = deps.settings.activation_token_hours
    expires_at = deps.now() + timedelta(hours=hours)
    await repo.insert_password_token(
        conn,
        user_id=user_id,
        purpose="activation",
        token_hash=hash_token(token),
        expires_at=expires_at,
    )
    await send_email(
        deps,
        conn,
        "account_welcome",
        recipient_email=email,
        recipient_name=name,
        subject_user_id=user_id,
        context={
            "set_password_url": deps.link("wachtwoord-instellen", token),
            "username": username,
            "organisation_name": organisation_name,
            "expires_hours": hours,
        },
        expires_at=expires_at,
    )


async def create_user(
    deps: IdentityDeps, body: UserIn, *, actor: uuid.UUID, origin: str | None
) -> UserOut:
    """kb_admin creates a user directly; the user sets a password from the welcome link."""
    email = email_or_error(body.email)
    roles = _roles_or_error(body.roles)
    async with deps.transaction() as conn:
        organisation = await _organisation_for_roles(conn, roles, body.organisation_id)
        username = await free_username(conn, body.username, body.name, email)
        user_id = await create_account(
            deps,
            conn,
            username=username,
            name=body.name,
            email=email,
            roles=roles,
            organisation=organisation,
        )
        await audit.record(
            conn,
            "user.created",
            actor=actor,
            object_type="user",
            object_id=user_id,
            origin=origin,
            roles=roles,
        )
        row = await existing_user(conn, user_id)
    return present(row)


async def list_users(
    deps: IdentityDeps,
    *,
    organisation_id: uuid.UUID | None,
    role: str | None,
    limit: int,
    offset: int,
    q: str | None = None,
) -> UserPage:
    """A page of users (`q`: part of username, name or e-mail address)."""
    async with deps.connection() as conn:
        rows, total = await repo.list_users(
            conn, organisation_id=organisation_id, role=role, limit=limit, offset=offset, q=q
        )
    return UserPage(items=[present(r) for r in rows], total=total, limit=limit, offset=offset)


async def get_user(deps: IdentityDeps, user_id: uuid.UUID) -> UserOut:
    """One user or 404."""
    async with deps.connection() as conn:
        row = await existing_user(conn, user_id)
    return present(row)


# ASVS 6.4.4: a lost factor is replaced after the KB admin re-proofs the person.
_MFA_RESET: dict[str, Any] = {
    "totp_secret": None,
    "totp_confirmed_at": None,
    "totp_last_step": None,
    "mfa_failures": 0,
    "mfa_locked_until": None,
}


@dataclass
class _UserChange:
    """The columns a change sets, and what else it means."""

    fields: dict[str, Any] = field(default_factory=dict)
    end_sessions: bool = False
    email_changed: bool = False


async def _user_change(
    conn: Conn, row: UserRow, changes: dict[str, Any], *, actor: uuid.UUID
) -> _UserChange:
    """Check the requested changes; role, organisation, e-mail, disabling end sessions."""
    change = _UserChange()
    fields = change.fields
    if "name" in changes:
        fields["name"] = changes["name"]
    if "email" in changes:
        fields["email"] = email_or_error(changes["email"])
        change.email_changed = fields["email"] != row.email
        change.end_sessions = change.end_sessions or change.email_changed
    roles = list(row.roles)
    if "roles" in changes:
        roles = _roles_or_error(changes["roles"])
        fields["roles"] = roles
        change.end_sessions = True
    organisation_id = changes.get("organisation_id", row.organisation_id)
    if "roles" in changes or "organisation_id" in changes:
        await _organisation_for_roles(conn, roles, organisation_id)
        fields["organisation_id"] = organisation_id
        change.end_sessions = True
    if "disabled" in changes:
        if changes["disabled"] and row.id == actor:
            raise Conflict("You cannot disable your own account.")
        fields["disabled"] = changes["disabled"]
        change.end_sessions = change.end_sessions or bool(changes["disabled"])
    if "locale" in changes:
        fields["locale"] = changes["locale"]
    if changes.get("reset_mfa"):
        fields.update(_MFA_RESET)
        change.end_sessions = True
    return change


async def update_user(
    deps: IdentityDeps,
    user_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    actor: uuid.UUID,
    origin: str | None,
) -> UserOut:
    """kb_admin changes a user; role, organisation, e-mail, disabling and MFA reset end sessions."""
    async with deps.transaction() as conn:
        row = await existing_user(conn, user_id, for_update=True)
        change = await _user_change(conn, row, changes, actor=actor)
        if changes.get("reset_mfa"):
            await repo.replace_recovery_codes(conn, user_id, [])
        if change.fields:
            await repo.update_user(conn, user_id, change.fields)
        if change.end_sessions:
            await repo.revoke_user_sessions(conn, user_id, now=deps.now(), source=deps.source)
        if change.email_changed:
            await _after_email_change(deps, conn, row, change.fields["email"])
        await audit.record(
            conn,
            "user.updated",
            actor=actor,
            object_type="user",
            object_id=user_id,
            origin=origin,
            fields=sorted(set(change.fields) | ({"mfa"} if changes.get("reset_mfa") else set())),
        )
        fresh = await existing_user(conn, user_id)
    return present(fresh)


async def erase_user(
    deps: IdentityDeps, user_id: uuid.UUID, *, actor: uuid.UUID, origin: str | None
) -> None:
    """AVG art. 17: delete the person's data here and tell the other services."""
    if user_id == actor:
        raise Conflict("You cannot erase your own account; ask another KB administrator.")
    async with deps.transaction() as conn:
        if not await repo.delete_user(conn, user_id):
            raise NotFound("The user does not exist.")
        await enqueue(deps, conn, UserErased(user_id=user_id))
        await audit.record(
            conn, "user.erased", actor=actor, object_type="user", object_id=user_id, origin=origin
        )


async def me(deps: IdentityDeps, user_id: uuid.UUID) -> MeOut:
    """The caller's own account."""
    async with deps.connection() as conn:
        row = await existing_user(conn, user_id)
    return MeOut(**present(row).model_dump(), mfa_required=requires_mfa(row.roles))


async def _after_email_change(deps: IdentityDeps, conn: Conn, old: UserRow, new_email: str) -> None:
    """Links mailed to the old address die; the old address is told (ASVS 6.3.6, 7.4.3)."""
    await repo.spend_password_tokens(conn, old.id)
    if old.email:
        # Not naming the new address: whoever reads the old mailbox need not learn it.
        await send_email(
            deps,
            conn,
            "email_changed",
            recipient_email=old.email,
            recipient_name=old.name,
            subject_user_id=old.id,
            locale=old.locale,
        )
    if old.password_hash is None:
        # Not activated yet (a typo fixed, say): the set-password link goes to the new address.
        await send_activation(
            deps,
            conn,
            user_id=old.id,
            username=old.username,
            name=old.name,
            email=new_email,
            organisation_name=old.organisation_name or "",
        )


async def export(deps: IdentityDeps, user_id: uuid.UUID) -> AccountExport:
    """AVG art. 15/20: every piece of personal data identity holds on the caller."""
    async with deps.connection() as conn:
        row = await existing_user(conn, user_id)
        requests = await repo.account_requests_of_user(conn, user_id)
        recovery_codes = await repo.count_recovery_codes(conn, user_id)
        contacts = await repo.contacts_of_user(conn, user_id)
        sessions = await repo.list_sessions(conn, user_id)
        entries = await repo.audit_of_user(conn, user_id)
    return AccountExport(
        exported_at=deps.now(),
        controller="Koninklijke Bibliotheek (KB) — Bibliotheekmonitor",
        account=ExportedAccount(
            **present(row).model_dump(),
            password_changed_at=row.password_changed_at,
            mfa_enabled_at=row.totp_confirmed_at,
            updated_at=row.updated_at,
        ),
        recovery_codes_remaining=recovery_codes,
        account_requests=[
            ExportedAccountRequest.model_validate(r, from_attributes=True) for r in requests
        ],
        contact_person_for=contacts,
        sessions=sessions,
        audit_log=entries,
    )
