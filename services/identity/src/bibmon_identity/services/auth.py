"""Login, the MFA step, refresh rotation, logout, forgotten password and reset.

Sources: ASVS 5.0 V6 (authentication), V7 (sessions), V9 (tokens); NIST SP 800-63B-4;
docs/reliability.md 5.3–5.6 for the numbers.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import structlog

from bibmon_common.auth import SCOPE_FULL, SCOPE_MFA_ENROLMENT
from bibmon_common.errors import InvalidInput, TooManyRequests, Unauthorized, field_error
from bibmon_identity import repository as repo
from bibmon_identity.domain import signing, totp
from bibmon_identity.domain.passwords import check_password, context_words
from bibmon_identity.domain.throttling import (
    AccountState,
    record_failure,
    retry_after,
    throttle_key,
)
from bibmon_identity.domain.tokens import (
    hash_recovery_code,
    hash_token,
    looks_like_recovery_code,
    new_token,
)
from bibmon_identity.domain.users import min_password_length, requires_mfa
from bibmon_identity.repository import Conn
from bibmon_identity.services import audit
from bibmon_identity.services.mail import send_email
from bibmon_identity.services.runtime import Runtime, utcnow

log = structlog.get_logger(__name__)

# One message for unknown user, wrong password and disabled account (ASVS 6.3.8).
BAD_CREDENTIALS = "The username or password is incorrect."
BAD_CODE = "The code is incorrect or has already been used."
SESSION_ENDED = "The session has ended; log in again."
TOO_MANY = "Too many attempts; wait before trying again."
RESET_ACCEPTED = {
    "status": "accepted",
    "detail": "If the username and e-mail address belong to an account, a link to set a new "
    "password is on its way. The link is valid for a short time.",
}


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


@dataclass(frozen=True)
class MfaRequired:
    """The password was right; the second factor is next."""

    mfa_token: str
    expires_in: int

    def body(self) -> dict[str, Any]:
        """The JSON answer."""
        return {"mfa_required": True, "mfa_token": self.mfa_token, "expires_in": self.expires_in}


# --- sessions --------------------------------------------------------------------------


async def issue_session(
    conn: Conn,
    rt: Runtime,
    user: asyncpg.Record,
    *,
    scope: str,
    amr: list[str],
    family_id: uuid.UUID | None = None,
    family_expires_at: Any = None,
) -> TokenPair:
    """Sign an access token and store a new refresh token (a new family unless given)."""
    now = utcnow()
    settings = rt.settings
    idle = timedelta(minutes=settings.refresh_idle_minutes)
    family_expires_at = family_expires_at or now + timedelta(hours=settings.refresh_absolute_hours)
    refresh = new_token()
    idle_expires_at = min(now + idle, family_expires_at)
    family_id = family_id or uuid.uuid4()
    await repo.insert_refresh_token(
        conn,
        family_id=family_id,
        user_id=user["id"],
        token_hash=hash_token(refresh),
        scope=scope,
        amr=amr,
        idle_expires_at=idle_expires_at,
        family_expires_at=family_expires_at,
    )
    lifetime = timedelta(minutes=settings.access_token_minutes)
    access = signing.issue_access_token(
        await rt.keys.current(),
        issuer=rt.issuer,
        user_id=user["id"],
        organisation_id=user["organisation_id"],
        roles=list(user["roles"]),
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


def _session_scope(user: asyncpg.Record) -> str:
    # A kb_admin or researcher without TOTP may only enrol (BIO2 5.17.01).
    if requires_mfa(user["roles"]) and user["totp_confirmed_at"] is None:
        return SCOPE_MFA_ENROLMENT
    return SCOPE_FULL


# --- login -----------------------------------------------------------------------------


async def _ip_retry_after(conn: Conn, rt: Runtime, ip_key: bytes) -> int | None:
    window = timedelta(seconds=rt.policy.ip_window_seconds)
    since = utcnow() - window
    if await repo.count_rate_events(conn, ip_key, since) < rt.policy.ip_failures:
        return None
    oldest = await repo.oldest_rate_event(conn, ip_key, since)
    return max(1, int((oldest + window - utcnow()).total_seconds()) + 1)


async def login(
    pool: asyncpg.Pool, rt: Runtime, *, username: str, password: str, origin: str | None
) -> TokenPair | MfaRequired:
    """Check a username and password; answer tokens, an MFA step, 401 or 429."""
    account_key = throttle_key("login", username)
    ip_key = throttle_key("login-ip", origin or "unknown")
    outcome: str
    wait: int | None = None
    result: TokenPair | MfaRequired | None = None
    async with pool.acquire() as conn, conn.transaction():
        wait = await _ip_retry_after(conn, rt, ip_key)
        row = await repo.lock_throttle(conn, account_key)  # serialises attempts per name
        assert row is not None
        state = AccountState(row["failures"], row["last_failure_at"], row["locked_until"])
        if wait is None:
            wait = retry_after(state, utcnow(), rt.policy)
        if wait is not None:
            outcome = "throttled"
        else:
            user = await repo.get_user_by_username(conn, username)
            stored = user["password_hash"] if user is not None else None
            ok = await rt.hashing.verify(stored, password)
            if ok and user is not None and not user["disabled"]:
                outcome = "success"
                result = await _after_password(conn, rt, user, password, origin)
                await repo.clear_throttle(conn, account_key)
            else:
                outcome = "failure"
                await _login_failed(conn, rt, user, state, account_key, ip_key, origin)
    if outcome == "throttled":
        assert wait is not None
        log.info("auth.login_throttled", retry_after=wait)
        raise TooManyRequests(TOO_MANY, retry_after=wait)
    if outcome == "failure":
        raise Unauthorized(BAD_CREDENTIALS, type_="invalid-credentials")
    assert result is not None
    return result


async def _login_failed(
    conn: Conn,
    rt: Runtime,
    user: asyncpg.Record | None,
    state: AccountState,
    account_key: bytes,
    ip_key: bytes,
    origin: str | None,
) -> None:
    now = utcnow()
    new_state, starts_lock = record_failure(state, now, rt.policy)
    await repo.save_throttle(
        conn,
        account_key,
        failures=new_state.failures,
        last_failure_at=now,
        locked_until=new_state.locked_until,
    )
    await repo.add_rate_event(conn, ip_key)
    user_id = user["id"] if user is not None else None
    await audit.record(
        conn,
        "login",
        result="failure",
        object_type="user" if user_id else None,
        object_id=user_id,
        origin=origin,
        failures=new_state.failures,
    )
    if starts_lock:
        await audit.record(
            conn,
            "account.locked",
            object_type="user" if user_id else None,
            object_id=user_id,
            origin=origin,
            minutes=rt.policy.lock_minutes,
        )
        if user is not None:
            await _tell_account_locked(conn, rt, user)


async def _tell_account_locked(conn: Conn, rt: Runtime, user: asyncpg.Record) -> None:
    """E-mail the person that their account is locked for a while (ASVS 6.3.4-like)."""
    if user["email"]:
        await send_email(
            conn,
            "account_locked",
            recipient_email=user["email"],
            recipient_name=user["name"],
            subject_user_id=user["id"],
            context={"locked_minutes": int(rt.policy.lock_minutes)},
        )


async def _after_password(
    conn: Conn,
    rt: Runtime,
    user: asyncpg.Record,
    password: str,
    origin: str | None,
) -> TokenPair | MfaRequired:
    if rt.hashing.needs_rehash(user["password_hash"]):  # parameters changed since
        await repo.update_user(conn, user["id"], {"password_hash": await rt.hashing.hash(password)})
    if user["totp_confirmed_at"] is not None:
        now = utcnow()
        lifetime = timedelta(minutes=rt.settings.mfa_token_minutes)
        challenge_id = uuid.uuid4()
        await repo.insert_mfa_challenge(conn, challenge_id, user["id"], now + lifetime)
        await audit.record(
            conn,
            "login.password",
            actor=user["id"],
            object_type="user",
            object_id=user["id"],
            origin=origin,
            next="mfa",
        )
        token = signing.issue_mfa_token(
            await rt.keys.current(),
            issuer=rt.issuer,
            challenge_id=challenge_id,
            user_id=user["id"],
            now=now,
            lifetime=lifetime,
        )
        return MfaRequired(token, int(lifetime.total_seconds()))
    scope = _session_scope(user)
    await repo.update_user(conn, user["id"], {"last_login_at": utcnow()})
    await audit.record(
        conn,
        "login",
        actor=user["id"],
        object_type="user",
        object_id=user["id"],
        origin=origin,
        scope=scope,
    )
    return await issue_session(conn, rt, user, scope=scope, amr=["pwd"])


async def login_mfa(
    pool: asyncpg.Pool, rt: Runtime, *, mfa_token: str, code: str, origin: str | None
) -> TokenPair:
    """The second step: a TOTP code or a recovery code for the user of `mfa_token`."""
    ids = signing.verify_mfa_token(mfa_token, await rt.keys.all(), issuer=rt.issuer, now=utcnow())
    if ids is None:
        raise Unauthorized(SESSION_ENDED, type_="mfa-token-invalid")
    challenge_id, user_id = ids
    error: Exception | None = None
    pair: TokenPair | None = None
    async with pool.acquire() as conn, conn.transaction():
        challenge = await repo.get_mfa_challenge(conn, challenge_id)
        user = await repo.get_user(conn, user_id, for_update=True)
        now = utcnow()
        if (
            challenge is None
            or user is None
            or challenge["user_id"] != user_id
            or challenge["used_at"] is not None
            or challenge["expires_at"] <= now
            or user["disabled"]
            or user["totp_confirmed_at"] is None
        ):
            error = Unauthorized(SESSION_ENDED, type_="mfa-token-invalid")
        elif user["mfa_locked_until"] is not None and user["mfa_locked_until"] > now:
            wait = int((user["mfa_locked_until"] - now).total_seconds()) + 1
            error = TooManyRequests(TOO_MANY, retry_after=wait)
        elif await _check_second_factor(conn, rt, user, code):
            await repo.update_mfa_challenge(
                conn, challenge_id, failures=challenge["failures"], used=True
            )
            await repo.update_user(
                conn, user_id, {"mfa_failures": 0, "mfa_locked_until": None, "last_login_at": now}
            )
            await audit.record(
                conn,
                "login",
                actor=user_id,
                object_type="user",
                object_id=user_id,
                origin=origin,
                factor="otp",
            )
            pair = await issue_session(conn, rt, user, scope=SCOPE_FULL, amr=["pwd", "otp", "mfa"])
        else:
            error = await _mfa_failed(conn, rt, user, challenge, origin)
    if error is not None:
        raise error
    assert pair is not None
    return pair


async def _check_second_factor(conn: Conn, rt: Runtime, user: asyncpg.Record, code: str) -> bool:
    if looks_like_recovery_code(code):
        return await repo.use_recovery_code(conn, user["id"], hash_recovery_code(code))
    secret = decrypt_totp_secret(rt, user)
    step = totp.verify(secret, code, last_step=user["totp_last_step"])
    if step is None:
        return False
    await repo.update_user(conn, user["id"], {"totp_last_step": step})
    return True


async def _mfa_failed(
    conn: Conn,
    rt: Runtime,
    user: asyncpg.Record,
    challenge: asyncpg.Record,
    origin: str | None,
) -> Exception:
    failures = challenge["failures"] + 1
    # 5 wrong codes end this mfa_token; 10 in a row across logins lock the second step.
    killed = failures >= rt.policy.mfa_failures_per_token
    await repo.update_mfa_challenge(conn, challenge["id"], failures=failures, used=killed)
    user_failures = user["mfa_failures"] + 1
    fields: dict[str, Any] = {"mfa_failures": user_failures}
    locked = user_failures >= rt.policy.mfa_failures_lock
    if locked:
        fields = {
            "mfa_failures": 0,
            "mfa_locked_until": utcnow() + timedelta(minutes=rt.policy.lock_minutes),
        }
    await repo.update_user(conn, user["id"], fields)
    await audit.record(
        conn,
        "login.mfa",
        result="failure",
        object_type="user",
        object_id=user["id"],
        origin=origin,
        token_ended=killed,
    )
    if locked:
        await audit.record(
            conn, "account.mfa_locked", object_type="user", object_id=user["id"], origin=origin
        )
        await _tell_account_locked(conn, rt, user)
    if killed:
        return Unauthorized(BAD_CODE + " Log in again.", type_="mfa-token-invalid")
    return Unauthorized(BAD_CODE, type_="invalid-code")


def _totp_binding(user_id: uuid.UUID) -> bytes:
    # AES-GCM associated data: a seed decrypts only in its own user's row.
    return f"totp:{user_id}".encode()


def encrypt_totp_secret(rt: Runtime, user_id: uuid.UUID, secret: str) -> bytes:
    """The TOTP seed as stored in the user's row."""
    return rt.cipher.encrypt(secret.encode(), _totp_binding(user_id))


def decrypt_totp_secret(rt: Runtime, user: asyncpg.Record) -> str:
    """The user's TOTP seed in clear (only in memory)."""
    return rt.cipher.decrypt(user["totp_secret"], _totp_binding(user["id"])).decode()


# --- refresh and logout ----------------------------------------------------------------


async def refresh(
    pool: asyncpg.Pool, rt: Runtime, *, refresh_token: str, origin: str | None
) -> TokenPair:
    """Rotate a refresh token; showing a rotated one again ends its whole family."""
    error = Unauthorized(SESSION_ENDED, type_="session-ended")
    pair: TokenPair | None = None
    async with pool.acquire() as conn, conn.transaction():
        row = await repo.find_refresh_token(conn, hash_token(refresh_token))
        now = utcnow()
        if row is None or row["revoked_at"] is not None:
            pass
        elif row["rotated_at"] is not None:
            # RFC 9700 4.14.2 / OAuth 2.1: reuse means the token leaked; end the session.
            await repo.revoke_family(conn, row["family_id"])
            await audit.record(
                conn,
                "session.refresh_reuse",
                result="failure",
                object_type="user",
                object_id=row["user_id"],
                origin=origin,
            )
        elif row["idle_expires_at"] <= now or row["family_expires_at"] <= now:
            await repo.revoke_family(conn, row["family_id"])
        else:
            user = await repo.get_user(conn, row["user_id"])
            if user is None or user["disabled"]:
                await repo.revoke_family(conn, row["family_id"])
            else:
                await repo.mark_refresh_rotated(conn, row["id"])
                scope = row["scope"]
                if scope == SCOPE_FULL and _session_scope(user) != SCOPE_FULL:
                    scope = SCOPE_MFA_ENROLMENT
                pair = await issue_session(
                    conn,
                    rt,
                    user,
                    scope=scope,
                    amr=list(row["amr"]),
                    family_id=row["family_id"],
                    family_expires_at=row["family_expires_at"],
                )
    if pair is None:
        raise error
    return pair


async def logout(pool: asyncpg.Pool, *, refresh_token: str | None, origin: str | None) -> None:
    """End the session the refresh token belongs to (if any); always succeeds."""
    if not refresh_token:
        return
    async with pool.acquire() as conn, conn.transaction():
        row = await repo.find_refresh_token(conn, hash_token(refresh_token))
        if row is not None:
            await repo.revoke_family(conn, row["family_id"])
            await audit.record(
                conn,
                "logout",
                actor=row["user_id"],
                object_type="user",
                object_id=row["user_id"],
                origin=origin,
            )


# --- forgotten password and reset ------------------------------------------------------


async def password_forgotten(
    pool: asyncpg.Pool, rt: Runtime, *, username: str, email: str, origin: str | None
) -> dict[str, Any]:
    """Mail a reset link when username and e-mail match; the answer never tells."""
    account_key = throttle_key("reset", username)
    ip_key = throttle_key("reset-ip", origin or "unknown")
    # The token is made whether or not it is used, so both paths do the same work.
    token = new_token()
    async with pool.acquire() as conn, conn.transaction():
        hour_ago = utcnow() - timedelta(hours=1)
        limited = (
            await repo.count_rate_events(conn, account_key, hour_ago)
            >= rt.policy.reset_per_account_per_hour
            or await repo.count_rate_events(conn, ip_key, hour_ago)
            >= rt.policy.reset_per_ip_per_hour
        )
        await repo.add_rate_event(conn, account_key)
        await repo.add_rate_event(conn, ip_key)
        user = await repo.get_user_by_username(conn, username)
        matches = (
            user is not None
            and not user["disabled"]
            and user["email"] is not None
            and hmac.compare_digest(
                user["email"].casefold().encode(), email.strip().casefold().encode()
            )
        )
        if matches and not limited:
            assert user is not None
            expires_at = utcnow() + timedelta(minutes=rt.settings.reset_token_minutes)
            await repo.spend_password_tokens(conn, user["id"])  # older links die (5.4)
            await repo.insert_password_token(
                conn,
                user_id=user["id"],
                purpose="reset",
                token_hash=hash_token(token),
                expires_at=expires_at,
            )
            await send_email(
                conn,
                "password_reset",
                recipient_email=user["email"],
                recipient_name=user["name"],
                subject_user_id=user["id"],
                context={
                    "reset_url": rt.link("wachtwoord-herstellen", token),
                    "expires_minutes": rt.settings.reset_token_minutes,
                },
                expires_at=expires_at,
            )
        result = "sent" if matches and not limited else ("limited" if limited else "no_match")
        await audit.record(
            conn,
            "password_reset.requested",
            result=result,
            object_type="user" if user is not None else None,
            object_id=user["id"] if user is not None else None,
            origin=origin,
        )
    return dict(RESET_ACCEPTED)


INVALID_LINK = "This link is invalid, used or expired; request a new one."


async def _usable_link(
    conn: Conn, token_hash: bytes, *, for_update: bool = False
) -> asyncpg.Record:
    """The reset or activation link of a hash, or 422 when unknown, used or expired."""
    link = await repo.find_password_token(conn, token_hash, for_update=for_update)
    if link is None or link["used_at"] is not None or link["expires_at"] <= utcnow():
        raise InvalidInput(
            INVALID_LINK, errors=[field_error("token", INVALID_LINK, "token_invalid")]
        )
    return link


async def password_reset(
    pool: asyncpg.Pool,
    rt: Runtime,
    *,
    token: str,
    new_password: str,
    code: str | None,
    origin: str | None,
) -> None:
    """Set a password from a reset or activation link (single use); end all sessions."""
    token_hash = hash_token(token)
    async with pool.acquire() as conn:
        link = await _usable_link(conn, token_hash)
        user = await repo.get_user(conn, link["user_id"])
    assert user is not None
    has_totp = user["totp_confirmed_at"] is not None
    problem = check_password(
        new_password,
        min_length=min_password_length(has_totp=has_totp, roles=user["roles"]),
        context=context_words(
            user["username"], user["name"], user["email"], user["organisation_name"]
        ),
    )
    if problem is not None:
        raise InvalidInput(
            problem.message, errors=[field_error("new_password", problem.message, problem.code)]
        )
    password_hash = await rt.hashing.hash(new_password)
    error: Exception | None = None
    async with pool.acquire() as conn, conn.transaction():
        link = await _usable_link(conn, token_hash, for_update=True)
        locked_user = await repo.get_user(conn, user["id"], for_update=True)
        if (
            # ASVS 6.4.3: a reset does not bypass the second factor.
            link["purpose"] == "reset"
            and has_totp
            and locked_user is not None
            and not (code and await _check_second_factor(conn, rt, locked_user, code))
        ):
            message = "Enter a current code from your authenticator app (or a recovery code)."
            error = InvalidInput(message, errors=[field_error("code", message, "code_required")])
        else:
            await repo.update_user(
                conn, user["id"], {"password_hash": password_hash, "password_changed_at": utcnow()}
            )
            await repo.spend_password_tokens(conn, user["id"])
            await repo.revoke_user_sessions(conn, user["id"])  # ASVS 7.4.3
            await repo.clear_throttle(conn, throttle_key("login", user["username"]))
            await audit.record(
                conn,
                "password.set",
                actor=user["id"],
                object_type="user",
                object_id=user["id"],
                origin=origin,
                via=link["purpose"],
            )
            if user["email"] and link["purpose"] == "reset":
                await send_email(  # ASVS 6.3.6: tell the user
                    conn,
                    "password_changed",
                    recipient_email=user["email"],
                    recipient_name=user["name"],
                    subject_user_id=user["id"],
                )
    if error is not None:
        raise error
