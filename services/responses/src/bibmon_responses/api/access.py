"""Who may call the responses routes: the role checks they share (the service's
dependencies object is `bibmon_responses.deps.Deps`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from bibmon_common.auth import (
    Bearer,
    CurrentPrincipal,
    Principal,
    check_roles,
    current_principal,
    require_roles,
)
from bibmon_common.errors import Forbidden, NotFound


async def _own_organisation(request: Request, credentials: Bearer) -> UUID:
    # Library staff act on their own organisation only, taken from the token (ASVS 8.2.2).
    # One dependency, not a chain: resolved on every draft save.
    principal = check_roles(await current_principal(request, credentials), "library_staff")
    if principal.organisation_id is None:
        raise Forbidden("Your account is not linked to a library organisation.")
    return principal.organisation_id


def _hide_from_library_staff(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """Like require_roles, but library staff get 404: an organisation's response, addressed
    by organisation id, does not exist for staff of another organisation (ASVS 8.4.1);
    their own is at /surveys/{id}/response."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.has_role("library_staff") and not principal.has_role(*roles):
            raise NotFound("No such response.")
        return check_roles(principal, *roles)

    return dependency


# The role matrix (docs/reliability.md 5.7): only researchers read answers and review them;
# a kb_admin follows progress and may reopen a response, but sees no answers.
AnswerReader = Annotated[Principal, Depends(_hide_from_library_staff("researcher"))]
Manager = Annotated[Principal, Depends(require_roles("researcher", "kb_admin"))]
Reopener = Annotated[Principal, Depends(_hide_from_library_staff("researcher", "kb_admin"))]
OwnOrganisation = Annotated[UUID, Depends(_own_organisation)]
