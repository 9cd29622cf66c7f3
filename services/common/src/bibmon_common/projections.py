"""Read models that several services keep of identity's facts.

Identity's public organisation master data: each service keeps its own copy in its own
database (created by its own migration from `ORGANISATION_DDL`: table `organisation`);
this module holds the one way to fill it from the events. And the sessions identity ended
early (table `revoked_session`, DDL `SESSION_REVOCATION_DDL`), whose access tokens
`bibmon_common.auth` refuses until they expire.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from bibmon_common.contracts.identity import (
    OrganisationRegistered,
    OrganisationUpdated,
    SessionRevoked,
)
from bibmon_common.events import CloudEvent
from bibmon_common.messaging.handlers import Route, on

log = structlog.get_logger(__name__)

_UPSERT = """
INSERT INTO organisation
    (id, name, province, municipalities, inhabitants, size_class, source_time)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET
    name = EXCLUDED.name, province = EXCLUDED.province,
    municipalities = EXCLUDED.municipalities, inhabitants = EXCLUDED.inhabitants,
    size_class = EXCLUDED.size_class, source_time = EXCLUDED.source_time
WHERE organisation.source_time <= EXCLUDED.source_time
"""


async def on_organisation_changed(
    deps: object,
    conn: asyncpg.Connection,
    message: OrganisationRegistered | OrganisationUpdated,
    envelope: CloudEvent,
) -> None:
    """Upsert the read model row unless a newer event already wrote it (events may reorder)."""
    await conn.execute(
        _UPSERT,
        message.organisation_id,
        message.name,
        message.province,
        list(message.municipalities),
        message.inhabitants,
        message.size_class,
        envelope.time,
    )


ORGANISATION_ROUTES: list[Route[object, Any]] = [
    on(OrganisationRegistered, on_organisation_changed),
    on(OrganisationUpdated, on_organisation_changed),
]


async def list_organisations(
    conn: asyncpg.Connection | PoolConnectionProxy,
) -> list[dict[str, Any]]:
    """All organisations of the read model, by name."""
    rows = await conn.fetch(
        "SELECT id, name, province, municipalities, inhabitants, size_class"
        " FROM organisation ORDER BY name"
    )
    return [dict(r) for r in rows]


# For the migration of each service that keeps the organisation read model (surveys and
# reporting): one text, so the copies cannot drift apart.
ORGANISATION_DDL = """
CREATE TABLE organisation (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    province        text NOT NULL,
    municipalities  text[] NOT NULL DEFAULT '{}',
    inhabitants     integer NOT NULL,
    size_class      text NOT NULL,
    -- time of the event that wrote this row: an older event never overwrites a newer one
    source_time     timestamptz NOT NULL
);
CREATE INDEX organisation_province_idx ON organisation (province);
CREATE INDEX organisation_size_class_idx ON organisation (size_class);
"""


# For each service's migration (identity's too: it records its own revocations).
SESSION_REVOCATION_DDL = """
CREATE TABLE revoked_session (
    session_id  uuid PRIMARY KEY,
    -- after this every access token of the session has expired: the row may go
    expires_at  timestamptz NOT NULL
);
CREATE INDEX revoked_session_expires_at_idx ON revoked_session (expires_at);
"""

_RECORD_REVOKED = """
INSERT INTO revoked_session (session_id, expires_at)
SELECT unnest($1::uuid[]), $2
ON CONFLICT (session_id) DO UPDATE
    SET expires_at = GREATEST(revoked_session.expires_at, EXCLUDED.expires_at)
"""


async def record_revoked_sessions(
    conn: asyncpg.Connection | PoolConnectionProxy,
    session_ids: Iterable[UUID],
    expires_at: datetime,
) -> None:
    """Remember sessions whose access tokens must be refused; forget expired ones."""
    await conn.execute("DELETE FROM revoked_session WHERE expires_at < now()")
    await conn.execute(_RECORD_REVOKED, list(session_ids), expires_at)


async def is_session_revoked(pool: asyncpg.Pool, session_id: UUID) -> bool:
    """True when identity ended the session (and its tokens may still be unexpired)."""
    async with pool.acquire() as conn:
        found = await conn.fetchval(
            "SELECT 1 FROM revoked_session WHERE session_id = $1 AND expires_at >= now()",
            session_id,
        )
    return found is not None


class RevokedSessions:
    """A process's copy of `revoked_session`, reloaded every `interval` seconds.

    Asking the database on every request costs a pooled connection and a round trip per
    request; this copy costs none. Every process (worker, replica) loads its own copy from
    the shared table, so a revocation recorded by any of them reaches all within
    `interval`. While the copy is older than `stale_after` (the database unreachable, the
    loop not started) every check asks the database, as `is_session_revoked` does.
    """

    def __init__(
        self, pool: asyncpg.Pool, *, interval: float = 1.0, stale_after: float = 5.0
    ) -> None:
        self._pool = pool
        self.interval = interval
        self.stale_after = stale_after
        self._expires: dict[UUID, datetime] = {}
        self._loaded_at = float("-inf")

    async def refresh(self) -> None:
        """Load the sessions whose tokens may still be unexpired."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT session_id, expires_at FROM revoked_session WHERE expires_at >= now()"
            )
        self._expires = {r["session_id"]: r["expires_at"] for r in rows}
        self._loaded_at = time.monotonic()

    async def run(self) -> None:
        """Reload until cancelled; a failure is logged and tried again next interval."""
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("revoked_sessions.refresh_failed", error=type(exc).__name__)
            await asyncio.sleep(self.interval)

    async def is_revoked(self, session_id: UUID) -> bool:
        """True when identity ended the session (and its tokens may still be unexpired)."""
        if time.monotonic() - self._loaded_at > self.stale_after:
            return await is_session_revoked(self._pool, session_id)
        expires_at = self._expires.get(session_id)
        return expires_at is not None and expires_at >= datetime.now(UTC)


async def on_session_revoked(
    deps: object, conn: asyncpg.Connection, message: SessionRevoked, envelope: CloudEvent
) -> None:
    """Record the ended sessions of an `identity.session.revoked.v1`."""
    await record_revoked_sessions(conn, message.session_ids, message.expires_at)


# Every service but identity follows identity's session revocations.
SESSION_ROUTES: list[Route[object, Any]] = [on(SessionRevoked, on_session_revoked)]


async def insert_questionnaire_version(
    conn: asyncpg.Connection | PoolConnectionProxy,
    survey_id: UUID,
    version: int,
    questionnaire: dict[str, Any],
) -> None:
    """Keep a copy of one of surveys' questionnaire versions (table `questionnaire_version`
    in responses' and reporting's databases). A version is frozen, so a redelivery or a
    replay changes nothing."""
    await conn.execute(
        """
        INSERT INTO questionnaire_version (survey_id, version, questionnaire)
        VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
        """,
        survey_id,
        version,
        questionnaire,
    )
