"""What the use cases share: settings, hashing, the data cipher, the signing keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from bibmon_common.app import ServiceContext
from bibmon_identity.clock import utcnow
from bibmon_identity.config import IdentitySettings
from bibmon_identity.domain.crypto import DataCipher
from bibmon_identity.domain.passwords import PasswordHashing
from bibmon_identity.domain.throttling import ThrottlePolicy
from bibmon_identity.usecases.keys import KeyStore

SOURCE = "identity"  # CloudEvents `source` of everything identity enqueues


@dataclass
class Runtime:
    """Long-lived helpers of one identity process."""

    settings: IdentitySettings
    hashing: PasswordHashing
    cipher: DataCipher
    policy: ThrottlePolicy
    keys: KeyStore = field(init=False)
    # Some user's id, the decoy of a reset request that mails nothing (services/auth.py).
    decoy_user_id: uuid.UUID | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.keys = KeyStore(self.settings, self.cipher)

    @classmethod
    def from_settings(cls, settings: IdentitySettings) -> Runtime:
        """Build from settings."""
        return cls(
            settings=settings,
            hashing=PasswordHashing(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
                concurrency=settings.hash_concurrency,
            ),
            cipher=DataCipher(settings.data_key_bytes()),
            policy=settings.throttle_policy(),
        )

    @property
    def issuer(self) -> str:
        """The `iss` of identity's tokens."""
        return self.settings.jwt_issuer

    def link(self, path: str, token: str) -> str:
        """A link into the web client, token in the fragment (ASVS 14.2.1: never logged)."""
        return f"{self.settings.public_base_url.rstrip('/')}/{path}#token={token}"


def runtime_of(ctx: ServiceContext) -> Runtime:
    """The runtime kept on the service context."""
    return ctx.extras["identity"]


__all__ = ["Runtime", "runtime_of", "utcnow"]
