"""Dependencies shared by the responses routers."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from bibmon_common.app import get_ctx
from bibmon_common.auth import Principal, require_roles
from bibmon_common.errors import Forbidden
from bibmon_responses.services import Runtime


def _runtime(request: Request) -> Runtime:
    # Built per request so a test that swaps ctx.clock moves every rule's "now".
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
# The role matrix (reliability.md 5.7): only researchers read answers and review them;
# a kb_admin follows progress and may reopen a response, but sees no answers.
AnswerReader = Annotated[Principal, Depends(require_roles("researcher"))]
Manager = Annotated[Principal, Depends(require_roles("researcher", "kb_admin"))]
OwnOrganisation = Annotated[UUID, Depends(_own_organisation)]
