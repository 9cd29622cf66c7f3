"""Account requests (public submit, kb_admin decides) and user administration."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status

from bibmon_common.app import DbConn
from bibmon_common.auth import KbAdmin
from bibmon_identity.api.deps import Limit, Offset, Origin, Pool, Rt
from bibmon_identity.api.schemas import (
    AccountRequestCreatedOut,
    AccountRequestIn,
    AccountRequestPage,
    ApprovedOut,
    ApproveIn,
    RejectedOut,
    RejectIn,
    Role,
    UserIn,
    UserOut,
    UserPage,
    UserPatch,
)
from bibmon_identity.services import accounts, users

router = APIRouter()


@router.post(
    "/account-requests",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AccountRequestCreatedOut,
    tags=["account requests"],
    summary="Ask for an account (public)",
)
async def request_account(
    body: AccountRequestIn, pool: Pool, rt: Rt, origin: Origin
) -> dict[str, Any]:
    """Stored as pending; the requester gets a confirmation e-mail."""
    return await accounts.request_account(pool, rt, body.model_dump(), origin=origin)


@router.get("/account-requests", response_model=AccountRequestPage, tags=["account requests"])
async def list_account_requests(
    _: KbAdmin,
    conn: DbConn,
    status_: Annotated[
        Literal["pending", "approved", "rejected", "all"], Query(alias="status")
    ] = "pending",
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Requests by status, oldest first."""
    wanted = None if status_ == "all" else status_
    return await accounts.list_requests(conn, status=wanted, limit=limit, offset=offset)


@router.post(
    "/account-requests/{request_id}/approve",
    status_code=status.HTTP_201_CREATED,
    response_model=ApprovedOut,
    tags=["account requests"],
)
async def approve(
    request_id: UUID,
    principal: KbAdmin,
    pool: Pool,
    rt: Rt,
    origin: Origin,
    body: ApproveIn | None = None,
) -> dict[str, Any]:
    """Create the user and mail a set-password link (72 h); 409 when already decided."""
    body = body or ApproveIn()
    return await accounts.approve(
        pool,
        rt,
        request_id,
        role=body.role,
        username=body.username,
        actor=principal.user_id,
        origin=origin,
    )


@router.post(
    "/account-requests/{request_id}/reject", response_model=RejectedOut, tags=["account requests"]
)
async def reject(
    request_id: UUID, principal: KbAdmin, pool: Pool, origin: Origin, body: RejectIn | None = None
) -> dict[str, Any]:
    """Decline with a polite e-mail; 409 when already decided."""
    body = body or RejectIn()
    return await accounts.reject(
        pool, request_id, reason=body.reason, actor=principal.user_id, origin=origin
    )


@router.get("/users", response_model=UserPage, tags=["users"])
async def list_users(
    _: KbAdmin,
    conn: DbConn,
    organisation_id: UUID | None = None,
    role: Role | None = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Part of username, name or e-mail")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Users by username (kb_admin)."""
    return await users.list_users(
        conn, organisation_id=organisation_id, role=role, limit=limit, offset=offset, q=q or None
    )


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserOut, tags=["users"])
async def create_user(
    body: UserIn, principal: KbAdmin, pool: Pool, rt: Rt, origin: Origin
) -> dict[str, Any]:
    """Create a user; they set a password from the welcome e-mail."""
    return await users.create_user(
        pool, rt, body.model_dump(), actor=principal.user_id, origin=origin
    )


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
async def get_user(user_id: UUID, _: KbAdmin, conn: DbConn) -> dict[str, Any]:
    """One user."""
    return await users.get_user(conn, user_id)


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
async def update_user(
    user_id: UUID, body: UserPatch, principal: KbAdmin, pool: Pool, rt: Rt, origin: Origin
) -> dict[str, Any]:
    """Change name, e-mail, roles, organisation, disabled, or reset TOTP."""
    changes = body.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k == "organisation_id"}
    return await users.update_user(
        pool, rt, user_id, changes, actor=principal.user_id, origin=origin
    )


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["users"])
async def erase_user(user_id: UUID, principal: KbAdmin, pool: Pool, origin: Origin) -> None:
    """AVG erasure: personal data deleted, sessions end, other services told."""
    await users.erase_user(pool, user_id, actor=principal.user_id, origin=origin)
