"""Dependencies shared by the responses routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from bibmon_common.app import get_ctx
from bibmon_common.auth import CurrentPrincipal, Principal, require_roles
from bibmon_common.errors import Forbidden, NotFound
from bibmon_responses.services import Runtime


async def _runtime(request: Request) -> Runtime:
    # Built per request so a test that swaps ctx.clock moves every rule's "now". Async:
    # FastAPI would run a plain function in its thread pool, a thread hop per request.
    ctx = get_ctx(request)
    return Runtime(settings=ctx.settings, clock=ctx.clock)


async def _own_organisation(
    principal: Annotated[Principal, Depends(require_roles("library_staff"))],
) -> UUID:
    # Library staff act on their own organisation only, taken from the token (ASVS 8.2.2).
    if principal.organisation_id is None:
        raise Forbidden("Your account is not linked to a library organisation.")
    return principal.organisation_id


Rt = Annotated[Runtime, Depends(_runtime)]


def _hide_from_library_staff(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """Like require_roles, but library staff get 404: an organisation's response, addressed
    by organisation id, does not exist for staff of another organisation (ASVS 8.4.1);
    their own is at /surveys/{id}/response."""
    allowed = require_roles(*roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.has_role("library_staff") and not principal.has_role(*roles):
            raise NotFound("No such response.")
        return await allowed(principal)

    return dependency


# The role matrix (docs/reliability.md 5.7): only researchers read answers and review them;
# a kb_admin follows progress and may reopen a response, but sees no answers.
AnswerReader = Annotated[Principal, Depends(_hide_from_library_staff("researcher"))]
Manager = Annotated[Principal, Depends(require_roles("researcher", "kb_admin"))]
Reopener = Annotated[Principal, Depends(_hide_from_library_staff("researcher", "kb_admin"))]
OwnOrganisation = Annotated[UUID, Depends(_own_organisation)]
