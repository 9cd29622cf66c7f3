"""The signing keys: configured, or generated once and shared through the database.

Every replica signs with the newest key and publishes the newest two in the JWKS, so a
token signed just before a rotation still verifies (docs/reliability.md 5.5: rotate every 90
days, keep the old key a while). Keys are stored encrypted with the data key.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import asyncpg
import structlog

from bibmon_common.clock import Clock, SystemClock
from bibmon_identity import repository as repo
from bibmon_identity.config import IdentitySettings
from bibmon_identity.domain import signing
from bibmon_identity.domain.crypto import DataCipher
from bibmon_identity.repository import Conn

log = structlog.get_logger(__name__)


_KEY_LOCK = 0x0B1B_1D01  # advisory lock: one replica creates a key at a time
_RELOAD_SECONDS = 60.0


class KeyStore:
    """Holds the current and previous signing key of this process."""

    def __init__(self, settings: IdentitySettings, cipher: DataCipher) -> None:
        self._settings = settings
        self.cipher = cipher
        self._clock: Clock = SystemClock()
        self._keys: list[signing.SigningKey] = []
        self._loaded_at = 0.0
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def start(self, pool: asyncpg.Pool, clock: Clock) -> None:
        """Load (and if needed create or rotate) the keys; `clock` dates new keys."""
        self._pool = pool
        self._clock = clock
        async with pool.acquire() as conn, conn.transaction():
            await repo.advisory_xact_lock(conn, _KEY_LOCK)
            await self._ensure(conn)
        await self.reload()

    async def _ensure(self, conn: Conn) -> None:
        now = self._clock.now()
        configured = self._settings.signing_key_pem
        if configured is not None:
            key = signing.load_key(configured.get_secret_value().encode(), now)
            await self._store(conn, key)
            return
        rows = await repo.list_signing_keys(conn, limit=1)
        max_age = timedelta(days=self._settings.signing_key_rotation_days)
        if not rows or now - rows[0].created_at > max_age:
            key = signing.generate_key(now)
            await self._store(conn, key)
            log.info("signing_key.created", kid=key.kid)

    async def _store(self, conn: Conn, key: signing.SigningKey) -> None:
        blob = self.cipher.encrypt(key.private_pem(), f"signing-key:{key.kid}".encode())
        await repo.insert_signing_key(conn, key.kid, blob, key.created_at)

    async def reload(self) -> None:
        """Read the newest two keys from the database."""
        assert self._pool is not None
        async with self._lock, self._pool.acquire() as conn:
            rows = await repo.list_signing_keys(conn, limit=2)
            keys = []
            for row in rows:
                pem = self.cipher.decrypt(row.private_key, f"signing-key:{row.kid}".encode())
                keys.append(signing.load_key(pem, row.created_at, kid=row.kid))
            configured = self._settings.signing_key_pem
            if configured is not None:
                wanted = signing.kid_for(
                    signing.load_key(
                        configured.get_secret_value().encode(), self._clock.now()
                    ).private_key
                )
                keys.sort(key=lambda k: k.kid != wanted)
            self._keys = keys
            self._loaded_at = time.monotonic()

    async def _fresh(self) -> list[signing.SigningKey]:
        if time.monotonic() - self._loaded_at > _RELOAD_SECONDS:
            await self.reload()
        return self._keys

    async def current(self) -> signing.SigningKey:
        """The key to sign with."""
        return (await self._fresh())[0]

    async def all(self) -> list[signing.SigningKey]:
        """Current and previous key."""
        return list(await self._fresh())

    async def jwks(self, force: bool = False) -> dict[str, Any]:
        """The JWKS; the kernel's JWTVerifier calls this as its local `jwks_provider`."""
        if force:
            await self.reload()
        return signing.jwks(await self._fresh())
