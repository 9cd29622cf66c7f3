"""Internal endpoints for other services, outside `/api`: the gateway never routes them.

Authenticated with the kernel's HMAC service token (`Authorization: Service <token>`,
bibmon_common.auth.service_token; ASVS 8.3.3), never with a user's access token. The
token is signed with `recipient_token_secret`, which only identity and the notifier hold,
not with the `service_token_secret` every service has: the caller's name is inside the
token, so a secret all services share would let any of them pose as the notifier and
harvest addresses.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request

from bibmon_common.auth import verify_service_token
from bibmon_common.errors import Forbidden, Unauthorized
from bibmon_identity.deps import Deps
from bibmon_identity.models import RecipientOut
from bibmon_identity.usecases import contacts

PREFIX = "/internal/identity"
# Services that may ask for a survey's recipient: only the one that sends e-mail.
RECIPIENT_CALLERS = frozenset({"notifier"})
SERVICE_TOKEN_MAX_AGE = 60


def _calling_service(request: Request, deps: Deps) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "service" or not token.strip():
        raise Unauthorized("A service token is required.")
    secret = deps.settings.recipient_token_secret.get_secret_value()
    return verify_service_token(secret, token.strip(), max_age=SERVICE_TOKEN_MAX_AGE)


CallingService = Annotated[str, Depends(_calling_service)]

# Hidden from the public OpenAPI document, which the gateway serves.
router = APIRouter(prefix=PREFIX, tags=["internal"], include_in_schema=False)


@router.get(
    "/surveys/{survey_id}/contacts/{organisation_id}/recipient", response_model=RecipientOut
)
async def survey_recipient(
    survey_id: UUID, organisation_id: UUID, caller: CallingService, deps: Deps
) -> RecipientOut:
    """The survey's contact person, else the primary contact; 404 when neither is active."""
    if caller not in RECIPIENT_CALLERS:
        raise Forbidden("This service may not ask for recipients.")
    return await contacts.survey_recipient(deps, survey_id, organisation_id, caller=caller)
