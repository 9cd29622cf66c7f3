"""Users: creation with an activation link, administration, AVG access and erasure."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import structlog

from bibmon_common.contracts.identity import AccountCreated, UserErased
from bibmon_common.errors import Conflict, InvalidInput, NotFound, field_error
from bibmon_identity import repository as repo
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
from bibmon_identity.repository import Conn
from bibmon_identity.services import audit
from bibmon_identity.services.mail import enqueue, send_email
from bibmon_identity.services.runtime import Runtime, utcnow

log = structlog.get_logger(__name__)


def present(row: asyncpg.Record) -> dict[str, Any]:
    """A user as kb_admin and the user see it (never hashes or secrets)."""
    return {
        "id": row["id"],
        "username": row["username"],
        "name": row["name"],
        "email": row["email"],
        "roles": list(row["roles"]),
        "organisation_id": row["organisation_id"],
        "organisation_name": row["organisation_name"],
        "mfa_enabled": row["totp_confirmed_at"] is not None,
        "password_set": row["password_hash"] is not None,
        "disabled": row["disabled"],
        "locale": row["locale"],
        "setup_required": row["setup_required"],
        "created_at": row["created_at"],
        "last_login_at": row["last_login_at"],
    }


async def existing_user(
    conn: Conn, user_id: uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record:
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


async def organisation_or_error(conn: Conn, organisation_id: uuid.UUID) -> asyncpg.Record:
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
) -> asyncpg.Record | None:
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
    conn: Conn,
    rt: Runtime,
    *,
    username: str,
    name: str,
    email: str,
    roles: list[str],
    organisation: asyncpg.Record | None,
) -> uuid.UUID:
    """Insert a user without a password; mail the welcome link; announce the account."""
    user_id = uuid.uuid4()
    organisation_id = organisation["id"] if organisation is not None else None
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
        conn, AccountCreated(user_id=user_id, organisation_id=organisation_id, roles=tuple(roles))
    )
    await send_activation(
        conn,
        rt,
        user_id=user_id,
        username=username,
        name=name,
        email=email,
        organisation_name=organisation["name"] if organisation is not None else "",
    )
    return user_id


async def send_activation(
    conn: Conn,
    rt: Runtime,
    *,
    user_id: uuid.UUID,
    username: str,
    name: str,
    email: str,
    organisation_name: str,
) -> None:
    """Store a set-password link (72 h) and mail it in the welcome e-mail."""
    token = new_token()
    hours = rt.settings.activation_token_hours
    expires_at = utcnow() + timedelta(hours=hours)
    await repo.insert_password_token(
        conn,
        user_id=user_id,
        purpose="activation",
        token_hash=hash_token(token),
        expires_at=expires_at,
    )
    await send_email(
        conn,
        "account_welcome",
        recipient_email=email,
        recipient_name=name,
        subject_user_id=user_id,
        context={
            "set_password_url": rt.link("wachtwoord-instellen", token),
            "username": username,
            "organisation_name": organisation_name,
            "expires_hours": hours,
        },
        expires_at=expires_at,
    )


async def create_user(
    pool: asyncpg.Pool,
    rt: Runtime,
    data: dict[str, Any],
    *,
    actor: uuid.UUID,
    origin: str | None,
) -> dict[str, Any]:
    """kb_admin creates a user directly; the user sets a password from the welcome link."""
    email = email_or_error(data["email"])
    roles = _roles_or_error(data["roles"])
    async with pool.acquire() as conn, conn.transaction():
        organisation = await _organisation_for_roles(conn, roles, data.get("organisation_id"))
        username = await free_username(conn, data.get("username"), data["name"], email)
        user_id = await create_account(
            conn,
            rt,
            username=username,
            name=data["name"],
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
        row = await repo.get_user(conn, user_id)
    assert row is not None
    return present(row)


async def list_users(
    conn: Conn,
    *,
    organisation_id: uuid.UUID | None,
    role: str | None,
    limit: int,
    offset: int,
    q: str | None = None,
) -> dict[str, Any]:
    """A page of users (`q`: part of username, name or e-mail address)."""
    rows, total = await repo.list_users(
        conn, organisation_id=organisation_id, role=role, limit=limit, offset=offset, q=q
    )
    return {"items": [present(r) for r in rows], "total": total, "limit": limit, "offset": offset}


async def get_user(conn: Conn, user_id: uuid.UUID) -> dict[str, Any]:
    """One user or 404."""
    return present(await existing_user(conn, user_id))


async def update_user(
    pool: asyncpg.Pool,
    rt: Runtime,
    user_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    actor: uuid.UUID,
    origin: str | None,
) -> dict[str, Any]:
    """kb_admin changes a user; role, organisation, e-mail, disabling and MFA reset end sessions."""
    fields: dict[str, Any] = {}
    end_sessions = False
    async with pool.acquire() as conn, conn.transaction():
        row = await existing_user(conn, user_id, for_update=True)
        if "name" in changes:
            fields["name"] = changes["name"]
        email_changed = False
        if "email" in changes:
            fields["email"] = email_or_error(changes["email"])
            email_changed = fields["email"] != row["email"]
            end_sessions = end_sessions or email_changed
        roles = list(row["roles"])
        if "roles" in changes:
            roles = _roles_or_error(changes["roles"])
            fields["roles"] = roles
            end_sessions = True
        organisation_id = changes.get("organisation_id", row["organisation_id"])
        if "roles" in changes or "organisation_id" in changes:
            await _organisation_for_roles(conn, roles, organisation_id)
            fields["organisation_id"] = organisation_id
            end_sessions = True
        if "disabled" in changes:
            if changes["disabled"] and user_id == actor:
                raise Conflict("You cannot disable your own account.")
            fields["disabled"] = changes["disabled"]
            end_sessions = end_sessions or bool(changes["disabled"])
        if "locale" in changes:
            fields["locale"] = changes["locale"]
        if changes.get("reset_mfa"):
            # ASVS 6.4.4: a lost factor is replaced after the KB admin re-proofs the person.
            fields.update(
                {
                    "totp_secret": None,
                    "totp_confirmed_at": None,
                    "totp_last_step": None,
                    "mfa_failures": 0,
                    "mfa_locked_until": None,
                }
            )
            await repo.replace_recovery_codes(conn, user_id, [])
            end_sessions = True
        if fields:
            await repo.update_user(conn, user_id, fields)
        if end_sessions:
            await repo.revoke_user_sessions(conn, user_id)
        if email_changed:
            await _after_email_change(conn, rt, row, fields["email"])
        await audit.record(
            conn,
            "user.updated",
            actor=actor,
            object_type="user",
            object_id=user_id,
            origin=origin,
            fields=sorted(set(fields) | ({"mfa"} if changes.get("reset_mfa") else set())),
        )
        fresh = await repo.get_user(conn, user_id)
    assert fresh is not None
    return present(fresh)


async def erase_user(
    pool: asyncpg.Pool, user_id: uuid.UUID, *, actor: uuid.UUID, origin: str | None
) -> None:
    """AVG art. 17: delete the person's data here and tell the other services."""
    if user_id == actor:
        raise Conflict("You cannot erase your own account; ask another KB administrator.")
    async with pool.acquire() as conn, conn.transaction():
        if not await repo.delete_user(conn, user_id):
            raise NotFound("The user does not exist.")
        await enqueue(conn, UserErased(user_id=user_id))
        await audit.record(
            conn, "user.erased", actor=actor, object_type="user", object_id=user_id, origin=origin
        )


async def me(conn: Conn, user_id: uuid.UUID) -> dict[str, Any]:
    """The caller's own account."""
    row = await existing_user(conn, user_id)
    body = present(row)
    body["mfa_required"] = requires_mfa(row["roles"])
    return body


async def _after_email_change(conn: Conn, rt: Runtime, old: asyncpg.Record, new_email: str) -> None:
    """Links mailed to the old address die; the old address is told (ASVS 6.3.6, 7.4.3)."""
    await repo.spend_password_tokens(conn, old["id"])
    if old["email"]:
        # Not naming the new address: whoever reads the old mailbox need not learn it.
        await send_email(
            conn,
            "email_changed",
            recipient_email=old["email"],
            recipient_name=old["name"],
            subject_user_id=old["id"],
            locale=old["locale"],
        )
    if old["password_hash"] is None:
        # Not activated yet (a typo fixed, say): the set-password link goes to the new address.
        await send_activation(
            conn,
            rt,
            user_id=old["id"],
            username=old["username"],
            name=old["name"],
            email=new_email,
            organisation_name=old["organisation_name"] or "",
        )


def _records(rows: Sequence[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(r) for r in rows]


async def export(conn: Conn, user_id: uuid.UUID) -> dict[str, Any]:
    """AVG art. 15/20: every piece of personal data identity holds on the caller."""
    row = await existing_user(conn, user_id)
    requests = [
        {
            k: r[k]
            for k in (
                "id",
                "name",
                "email",
                "organisation_id",
                "organisation_name",
                "message",
                "status",
                "created_at",
                "decided_at",
            )
        }
        for r in await repo.account_requests_of_user(conn, user_id)
    ]
    return {
        "exported_at": utcnow(),
        "controller": "Koninklijke Bibliotheek (KB) — Bibliotheekmonitor",
        "account": present(row)
        | {
            "password_changed_at": row["password_changed_at"],
            "mfa_enabled_at": row["totp_confirmed_at"],
            "updated_at": row["updated_at"],
        },
        "recovery_codes_remaining": await repo.count_recovery_codes(conn, user_id),
        "account_requests": requests,
        "contact_person_for": _records(await repo.contacts_of_user(conn, user_id)),
        "sessions": _records(await repo.list_sessions(conn, user_id)),
        "audit_log": _records(await repo.audit_of_user(conn, user_id)),
    }
