"""Ask identity who receives a survey's e-mails for an organisation, at send time.

No address enters the notifier through an event (architecture.md: events carry no
personal data); a survey e-mail job holds a reference (survey, organisation) and this
client resolves it over identity's internal API with a short-lived service token
(ASVS 8.3.3), signed with `identity_token_secret`, a secret only identity and the notifier
hold. The answer is used for one delivery attempt and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import httpx

from bibmon_common.auth import service_token
from bibmon_notifier.config import NotifierSettings

SERVICE = "notifier"


@dataclass(frozen=True)
class Recipient:
    """The contact person identity answered; lives only for one delivery attempt."""

    user_id: UUID
    email: str
    name: str
    locale: str
    source: str  # survey_contact | primary_contact

    def __repr__(self) -> str:
        # Keep the address out of tracebacks and reprs that may reach a log.
        return f"Recipient(user_id={self.user_id}, source={self.source})"


class RecipientUnavailable(Exception):
    """Identity could not answer now (down, timeout, 5xx, refused token): retry later."""


class IdentityClient:
    """HTTP client for identity's internal recipient endpoint (one per process)."""

    def __init__(self, settings: NotifierSettings, *, client: httpx.AsyncClient | None = None):
        self.settings = settings
        self._client = client or httpx.AsyncClient(
            base_url=settings.identity_url.rstrip("/"),
            timeout=settings.identity_timeout_seconds,
            # The internal call never goes through a proxy from the environment.
            trust_env=False,
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def survey_contact(self, survey_id: UUID, organisation_id: UUID) -> Recipient | None:
        """The current contact person, or None when the organisation has none at all."""
        # The service token is about real time (identity checks it against its own clock),
        # never the service's movable test clock.
        token = service_token(self.settings.identity_token_secret.get_secret_value(), SERVICE)
        path = f"/internal/identity/surveys/{survey_id}/contacts/{organisation_id}/recipient"
        try:
            response = await self._client.get(path, headers={"Authorization": f"Service {token}"})
        except httpx.HTTPError as exc:
            raise RecipientUnavailable(f"identity unreachable: {type(exc).__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RecipientUnavailable(f"identity answered {response.status_code}")
        try:
            data = response.json()
            return Recipient(
                user_id=UUID(data["user_id"]),
                email=str(data["email"]),
                name=str(data.get("name") or ""),
                locale=str(data.get("locale") or self.settings.default_locale),
                source=str(data.get("source") or ""),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise RecipientUnavailable("identity answered an unexpected body") from exc
