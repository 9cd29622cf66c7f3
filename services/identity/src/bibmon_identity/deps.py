"""What identity's use cases and its message handler get: `IdentityDeps`, built once.

See docs/kernel.md, "Use cases and their dependencies". Besides the kernel's pool, clock
and event source: the settings, password hashing, the data cipher, the throttle policy,
the signing keys, and the decoy of a reset request that mails nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

import asyncpg
from fastapi import Depends

from bibmon_common.clock import Clock
from bibmon_common.deps import ServiceDeps, deps_of, event_source
from bibmon_identity.config import IdentitySettings
from bibmon_identity.domain.crypto import DataCipher
from bibmon_identity.domain.passwords import PasswordHashing
from bibmon_identity.domain.throttling import ThrottlePolicy
from bibmon_identity.usecases.keys import KeyStore

SERVICE = "identity"


@dataclass
class DecoyUser:
    """Some user's id, looked up once: the decoy of a reset request that mails nothing.

    The one piece of state identity's use cases keep between requests
    (usecases/password_reset.py); it lives here so the frozen `IdentityDeps` can hold it.
    """

    user_id: uuid.UUID | None = None


@dataclass(frozen=True, kw_only=True)
class IdentityDeps(ServiceDeps):
    """Identity's dependencies: the kernel's, plus its settings and its own adapters."""

    settings: IdentitySettings
    hashing: PasswordHashing
    cipher: DataCipher
    policy: ThrottlePolicy
    keys: KeyStore
    decoy: DecoyUser = field(default_factory=DecoyUser)

    @property
    def issuer(self) -> str:
        """The `iss` of identity's tokens."""
        return self.settings.jwt_issuer

    def link(self, path: str, token: str) -> str:
        """A link into the web client, token in the fragment (ASVS 14.2.1: never logged)."""
        return f"{self.settings.public_base_url.rstrip('/')}/{path}#token={token}"


def password_hashing(settings: IdentitySettings) -> PasswordHashing:
    """argon2id with the settings' parameters."""
    return PasswordHashing(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        concurrency=settings.hash_concurrency,
    )


def build_deps(
    settings: IdentitySettings, keys: KeyStore
) -> Callable[[asyncpg.Pool, Clock], IdentityDeps]:
    """The factory `create_service_app` calls once the pool is open.

    `keys` is made before the app (its JWKS is the app's own `jwks_provider`), so the
    factory shares it and its cipher.
    """
    hashing = password_hashing(settings)
    policy = settings.throttle_policy()

    def build(pool: asyncpg.Pool, clock: Clock) -> IdentityDeps:
        return IdentityDeps(
            pool=pool,
            clock=clock,
            source=event_source(SERVICE),
            settings=settings,
            hashing=hashing,
            cipher=keys.cipher,
            policy=policy,
            keys=keys,
        )

    return build


Deps = Annotated[IdentityDeps, Depends(deps_of)]

__all__ = ["SERVICE", "DecoyUser", "Deps", "IdentityDeps", "build_deps", "password_hashing"]
