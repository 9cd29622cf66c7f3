"""Sessions: token pairs, their scope, refresh rotation and logout (ASVS 5.0 V7, V9)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from bibmon_common.auth import SCOPE_ACCOUNT_SETUP, SCOPE_FULL, SCOPE_MFA_ENROLMENT
from bibmon_common.errors import Unauthorized
from bibmon_identity import repository as repo
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain import signing
from bibmon_identity.domain.tokens import hash_token, new_token
from bibmon_identity.domain.users import requires_mfa
from bibmon_identity.repository import Conn, UserRow
from bibmon_identity.usecases import audit

log = structlog.get_logger(__name__)

SESSION_ENDED = "The session has ended; log in again."


@dataclass(frozen=True)
class TokenPair:
    """A fresh access token and refresh token."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    scope: str

    def body(self) -> dict[str, Any]:
        """The JSON answer (RFC 6749 5.1 names)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }


# --- sessions --------------------------------------------------------------------------


async def issue_session(
    deps: IdentityDeps,
    conn: Conn,
    user: UserRow,
    *,
    scope: str,
    amr: list[str],
    family_id: uuid.UUID | None = None,
    family_expires_at: datetime | None = None,
) -> TokenPair:
    """Sign an access token and store a new refresh token (a new family unless given)."""
    now = deps.now()
    settings = deps.settings
    idle = timedelta(minutes=settings.refresh_idle_minutes)
    family_expires_at = family_expires_at or now + timedelta(hours=settings.refresh_absolute_hours)
    refresh = new_token()
    idle_expires_at = min(now + idle, family_expires_at)
    family_id = family_id or uuid.uuid4()
    await repo.insert_refresh_token(
        conn,
        family_id=family_id,
        user_id=user.id,
        token_hash=hash_token(refresh),
        scope=scope,
        amr=amr,
        idle_expires_at=idle_expires_at,
        family_expires_at=family_expires_at,
    )
    lifetime = timedelta(minutes=settings.access_token_minutes)
    access = signing.issue_access_token(
        await deps.keys.current(),
        issuer=deps.issuer,
        user_id=user.id,
        organisation_id=user.organisation_id,
        roles=list(user.roles),
        scope=scope,
        amr=amr,
        now=now,
        lifetime=lifetime,
        session_id=family_id,
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=int(lifetime.total_seconds()),
        refresh_expires_in=int((idle_expires_at - now).total_seconds()),
        scope=scope,
    )


def session_scope(user: UserRow) -> str:
    """What a session of this user may do now: set up the account, enrol TOTP, or all."""
    if user.setup_required:
        return SCOPE_ACCOUNT_SETUP
    # A kb_admin or researcher without TOTP may only enrol (BIO2 5.17.01).
    if requires_mfa(user.roles) and user.totp_confirmed_at is None:
        return SCOPE_MFA_ENROLMENT
    return SCOPE_FULL


# --- refresh and logout ----------------------------------------------------------------


async def refresh(deps: IdentityDeps, *, refresh_token: str, origin: str | None) -> TokenPair:
    """Rotate a refresh token; showing a rotated one again ends its whole family."""
    error = Unauthorized(SESSION_ENDED, type_="session-ended")
    pair: TokenPair | None = None
    async with deps.transaction() as conn:
        row = await repo.find_refresh_token(conn, hash_token(refresh_token))
        now = deps.now()
        if row is None or row.revoked_at is not None:
            pass
        elif row.rotated_at is not None:
            # RFC 9700 4.14.2 / OAuth 2.1: reuse means the token leaked; end the session.
            await repo.revoke_family(conn, row.family_id, now=deps.now(), source=deps.source)
            await audit.record(
                conn,
                "session.refresh_reuse",
                result="failure",
                object_type="user",
                object_id=row.user_id,
                origin=origin,
            )
        elif row.idle_expires_at <= now or row.family_expires_at <= now:
            await repo.revoke_family(conn, row.family_id, now=deps.now(), source=deps.source)
        else:
            user = await repo.get_user(conn, row.user_id)
            if user is None or user.disabled:
                await repo.revoke_family(conn, row.family_id, now=deps.now(), source=deps.source)
            else:
                await repo.mark_refresh_rotated(conn, row.id)
                # Never more than the user may do now (a narrower scope stays narrow).
                scope = row.scope if row.scope != SCOPE_FULL else session_scope(user)
                pair = await issue_session(
                    deps,
                    conn,
                    user,
                    scope=scope,
                    amr=list(row.amr),
                    family_id=row.family_id,
                    family_expires_at=row.family_expires_at,
                )
    if pair is None:
        raise error
    return pair


async def logout(deps: IdentityDeps, *, refresh_token: str | None, origin: str | None) -> None:
    """End the session the refresh token belongs to (if any); always succeeds."""
    if not refresh_token:
        return
    async with deps.transaction() as conn:
        row = await repo.find_refresh_token(conn, hash_token(refresh_token))
        if row is not None:
            await repo.revoke_family(conn, row.family_id, now=deps.now(), source=deps.source)
            await audit.record(
                conn,
                "logout",
                actor=row.user_id,
                object_type="user",
                object_id=row.user_id,
                origin=origin,
            )
