"""Account requests from the public, decided by a KB administrator."""

from __future__ import annotations

import uuid
from datetime import timedelta

from bibmon_common.contracts.identity import AccountRequested
from bibmon_common.errors import Conflict, InvalidInput, NotFound, TooManyRequests, field_error
from bibmon_identity import repository as repo
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain.throttling import throttle_key
from bibmon_identity.domain.users import LIBRARY_STAFF, ROLES
from bibmon_identity.models import (
    AccountRequestCreatedOut,
    AccountRequestIn,
    AccountRequestOut,
    AccountRequestPage,
    ApprovedOut,
    RejectedOut,
)
from bibmon_identity.repository import AccountRequestRow, Conn
from bibmon_identity.usecases import audit
from bibmon_identity.usecases.mail import enqueue, send_email
from bibmon_identity.usecases.users import (
    create_account,
    email_or_error,
    free_username,
    organisation_or_error,
)


def present(row: AccountRequestRow) -> AccountRequestOut:
    """A request as kb_admin sees it."""
    return AccountRequestOut.model_validate(row, from_attributes=True)


async def request_account(
    deps: IdentityDeps, body: AccountRequestIn, *, origin: str | None
) -> AccountRequestCreatedOut:
    """Store a public request and confirm it to the requester (within limits)."""
    email = email_or_error(body.email)
    request_id = uuid.uuid4()
    ip_key = throttle_key("account-request-ip", origin or "unknown")
    address_key = throttle_key("account-request-email", email)
    async with deps.transaction() as conn:
        organisation = await organisation_or_error(conn, body.organisation_id)
        hour_ago = deps.now() - timedelta(hours=1)
        if (
            await repo.count_rate_events(conn, ip_key, hour_ago)
            >= deps.settings.account_requests_per_ip_per_hour
        ):
            raise TooManyRequests(
                "Too many requests from this address; try again later.", retry_after=3600
            )
        await repo.add_rate_event(conn, ip_key)
        # The form must not let anyone mail an address at will: past the limit the request
        # is still stored for KB and answered alike, but not confirmed by e-mail.
        confirm = (
            await repo.count_rate_events(conn, address_key, deps.now() - timedelta(days=1))
            < deps.settings.account_request_mails_per_address_per_day
        )
        await repo.insert_account_request(
            conn,
            id=request_id,
            name=body.name,
            email=email,
            organisation_id=organisation.id,
            message=body.message or "",
        )
        await enqueue(
            deps,
            conn,
            AccountRequested(account_request_id=request_id, organisation_id=organisation.id),
        )
        if confirm:
            await repo.add_rate_event(conn, address_key)
            await send_email(
                deps,
                conn,
                "account_request_received",
                recipient_email=email,
                # The name is the sender's own text: it stays out of the mail (issue 10).
                recipient_name="",
                subject_user_id=None,
                context={"organisation_name": organisation.name},
                idempotency_key=f"identity:account_request_received:{request_id}",
            )
        await audit.record(
            conn,
            "account_request.received",
            object_type="account_request",
            object_id=request_id,
            origin=origin,
            confirmed=confirm,
        )
    return AccountRequestCreatedOut(id=request_id, status="pending")


async def list_requests(
    deps: IdentityDeps, *, status: str | None, limit: int, offset: int
) -> AccountRequestPage:
    """A page of requests."""
    async with deps.connection() as conn:
        rows, total = await repo.list_account_requests(
            conn, status=status, limit=limit, offset=offset
        )
    return AccountRequestPage(
        items=[present(r) for r in rows], total=total, limit=limit, offset=offset
    )


async def _pending(conn: Conn, request_id: uuid.UUID) -> AccountRequestRow:
    row = await repo.get_account_request(conn, request_id, for_update=True)
    if row is None:
        raise NotFound("The account request does not exist.")
    if row.status != "pending":
        raise Conflict(
            f"The request has already been {row.status}.", type_="request-already-decided"
        )
    return row


async def approve(
    deps: IdentityDeps,
    request_id: uuid.UUID,
    *,
    role: str,
    username: str | None,
    actor: uuid.UUID,
    origin: str | None,
) -> ApprovedOut:
    """Create the account (no password yet) and mail the set-password link."""
    if role not in ROLES:
        message = "Role must be one of: " + ", ".join(sorted(ROLES)) + "."
        raise InvalidInput(message, errors=[field_error("role", message, "unknown_role")])
    async with deps.transaction() as conn:
        row = await _pending(conn, request_id)
        chosen = await free_username(conn, username, row.name, row.email)
        organisation = await repo.get_organisation(conn, row.organisation_id)
        # KB-wide roles belong to no library organisation (contracts: AccountCreated).
        user_id = await create_account(
            deps,
            conn,
            username=chosen,
            name=row.name,
            email=row.email,
            roles=[role],
            organisation=organisation if role == LIBRARY_STAFF else None,
        )
        await repo.decide_account_request(
            conn, request_id, status="approved", decided_by=actor, user_id=user_id
        )
        await audit.record(
            conn,
            "account_request.approved",
            actor=actor,
            object_type="account_request",
            object_id=request_id,
            origin=origin,
            user_id=str(user_id),
            role=role,
        )
    return ApprovedOut(id=request_id, status="approved", user_id=user_id, username=chosen)


async def reject(
    deps: IdentityDeps,
    request_id: uuid.UUID,
    *,
    reason: str,
    actor: uuid.UUID,
    origin: str | None,
) -> RejectedOut:
    """Decline politely by e-mail; the request is purged after 30 days."""
    async with deps.transaction() as conn:
        row = await _pending(conn, request_id)
        await repo.decide_account_request(
            conn, request_id, status="rejected", decided_by=actor, reason=reason
        )
        await send_email(
            deps,
            conn,
            "account_rejected",
            recipient_email=row.email,
            recipient_name="",  # the requester's own text, never echoed to an address
            subject_user_id=None,
            context={"reason": reason},
            idempotency_key=f"identity:account_rejected:{request_id}",
        )
        await audit.record(
            conn,
            "account_request.rejected",
            actor=actor,
            object_type="account_request",
            object_id=request_id,
            origin=origin,
        )
    return RejectedOut(id=request_id, status="rejected")
