"""Account requests (public submit, kb_admin decides) and user administration."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status

from bibmon_common.auth import KbAdmin
from bibmon_identity.api.params import Limit, Offset, Origin
from bibmon_identity.deps import Deps
from bibmon_identity.models import (
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
from bibmon_identity.usecases import account_requests, users

router = APIRouter()


@router.post(
    "/account-requests",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AccountRequestCreatedOut,
    tags=["account requests"],
    summary="Ask for an account (public)",
)
async def request_account(
    body: AccountRequestIn, deps: Deps, origin: Origin
) -> AccountRequestCreatedOut:
    """Stored as pending; the requester gets a confirmation e-mail."""
    return await account_requests.request_account(deps, body, origin=origin)


@router.get("/account-requests", response_model=AccountRequestPage, tags=["account requests"])
async def list_account_requests(
    _: KbAdmin,
    deps: Deps,
    status_: Annotated[
        Literal["pending", "approved", "rejected", "all"], Query(alias="status")
    ] = "pending",
    limit: Limit = 100,
    offset: Offset = 0,
) -> AccountRequestPage:
    """Requests by status, oldest first."""
    wanted = None if status_ == "all" else status_
    return await account_requests.list_requests(deps, status=wanted, limit=limit, offset=offset)


@router.post(
    "/account-requests/{request_id}/approve",
    status_code=status.HTTP_201_CREATED,
    response_model=ApprovedOut,
    tags=["account requests"],
)
async def approve(
    request_id: UUID,
    principal: KbAdmin,
    deps: Deps,
    origin: Origin,
    body: ApproveIn | None = None,
) -> ApprovedOut:
    """Create the user and mail a set-password link (72 h); 409 when already decided."""
    body = body or ApproveIn()
    return await account_requests.approve(
        deps,
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
    request_id: UUID, principal: KbAdmin, deps: Deps, origin: Origin, body: RejectIn | None = None
) -> RejectedOut:
    """Decline with a polite e-mail; 409 when already decided."""
    body = body or RejectIn()
    return await account_requests.reject(
        deps, request_id, reason=body.reason, actor=principal.user_id, origin=origin
    )


@router.get("/users", response_model=UserPage, tags=["users"])
async def list_users(
    _: KbAdmin,
    deps: Deps,
    organisation_id: UUID | None = None,
    role: Role | None = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Part of username, name or e-mail")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> UserPage:
    """Users by username (kb_admin)."""
    return await users.list_users(
        deps, organisation_id=organisation_id, role=role, limit=limit, offset=offset, q=q or None
    )


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserOut, tags=["users"])
async def create_user(body: UserIn, principal: KbAdmin, deps: Deps, origin: Origin) -> UserOut:
    """Create a user; they set a password from the welcome e-mail."""
    return await users.create_user(deps, body, actor=principal.user_id, origin=origin)


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
async def get_user(user_id: UUID, _: KbAdmin, deps: Deps) -> UserOut:
    """One user."""
    return await users.get_user(deps, user_id)


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
async def update_user(
    user_id: UUID, body: UserPatch, principal: KbAdmin, deps: Deps, origin: Origin
) -> UserOut:
    """Change name, e-mail, roles, organisation, disabled, or reset TOTP."""
    changes = body.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k == "organisation_id"}
    return await users.update_user(deps, user_id, changes, actor=principal.user_id, origin=origin)


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["users"])
async def erase_user(user_id: UUID, principal: KbAdmin, deps: Deps, origin: Origin) -> None:
    """AVG erasure: personal data deleted, sessions end, other services told."""
    await users.erase_user(deps, user_id, actor=principal.user_id, origin=origin)
