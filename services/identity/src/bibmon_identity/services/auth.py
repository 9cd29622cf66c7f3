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

from bibmon_common.auth import SCOPE_ACCOUNT_SETUP, SCOPE_FULL, SCOPE_MFA_ENROLMENT
from bibmon_common.errors import (
    Conflict,
    InvalidInput,
    TooManyRequests,
    Unauthorized,
    field_error,
)
from bibmon_identity import repository as repo
from bibmon_identity.domain import signing, totp
from bibmon_identity.domain.passwords import check_password, context_words
from bibmon_identity.domain.throttling import (
    AccountState,
    known_address_key,
    pair_key,
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
from bibmon_identity.services.users import email_or_error

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


def session_scope(user: asyncpg.Record) -> str:
    """What a session of this user may do now: set up the account, enrol TOTP, or all."""
    if user["setup_required"]:
        return SCOPE_ACCOUNT_SETUP
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
    keys = LoginKeys.of(username, origin)
    outcome: str
    wait: int | None = None
    result: TokenPair | MfaRequired | None = None
    async with pool.acquire() as conn, conn.transaction():
        wait, account, pair = await _throttle_state(conn, rt, keys)
        if wait is not None:
            outcome = "throttled"
        else:
            user = await repo.get_user_by_username(conn, username)
            stored = user["password_hash"] if user is not None else None
            ok = await rt.hashing.verify(stored, password)
            if ok and user is not None and not user["disabled"]:
                outcome = "success"
                result = await _after_password(conn, rt, user, password, origin)
                await repo.clear_throttle(conn, keys.account)
                await repo.clear_throttle(conn, keys.pair)
                await repo.remember_address(conn, keys.known)
            else:
                outcome = "failure"
                await _login_failed(conn, rt, user, account, pair, keys, origin)
    if outcome == "throttled":
        assert wait is not None
        log.info("auth.login_throttled", retry_after=wait)
        raise TooManyRequests(TOO_MANY, retry_after=wait)
    if outcome == "failure":
        raise Unauthorized(BAD_CREDENTIALS, type_="invalid-credentials")
    assert result is not None
    return result


@dataclass(frozen=True)
class LoginKeys:
    """The throttle keys of one login attempt (hashes; no username or address in clear)."""

    account: bytes
    pair: bytes
    known: bytes
    ip: bytes

    @classmethod
    def of(cls, username: str, origin: str | None) -> LoginKeys:
        """The keys of a submitted username from a client address."""
        address = origin or "unknown"
        return cls(
            account=throttle_key("login", username),
            pair=pair_key(username, address),
            known=known_address_key(username, address),
            ip=throttle_key("login-ip", address),
        )


async def _throttle_state(
    conn: Conn, rt: Runtime, keys: LoginKeys
) -> tuple[int | None, AccountState, AccountState]:
    """Seconds to wait (or None), and the account's and the pair's state, rows locked."""
    wait = await _ip_retry_after(conn, rt, keys.ip)
    # Account row first, then the pair's: one order, so concurrent attempts never deadlock.
    account_row = await repo.lock_throttle(conn, keys.account)  # serialises per name
    pair_row = await repo.lock_throttle(conn, keys.pair, keys.account)
    assert account_row is not None
    assert pair_row is not None
    account = AccountState(
        account_row["failures"], account_row["last_failure_at"], account_row["locked_until"]
    )
    pair = AccountState(pair_row["failures"], pair_row["last_failure_at"], pair_row["locked_until"])
    now = utcnow()
    if wait is None:
        wait = retry_after(pair, now, rt.policy)
    if wait is None and not await repo.is_known_address(conn, keys.known):
        wait = retry_after(account, now, rt.policy)
    return wait, account, pair


async def _login_failed(
    conn: Conn,
    rt: Runtime,
    user: asyncpg.Record | None,
    account: AccountState,
    pair: AccountState,
    keys: LoginKeys,
    origin: str | None,
) -> None:
    now = utcnow()
    # The account only slows down; the lock falls on this address alone (NIST 800-63B-4).
    new_account, _ = record_failure(account, now, rt.policy, lock=False)
    new_pair, starts_lock = record_failure(pair, now, rt.policy)
    for key, state in ((keys.account, new_account), (keys.pair, new_pair)):
        await repo.save_throttle(
            conn,
            key,
            failures=state.failures,
            last_failure_at=now,
            locked_until=state.locked_until,
        )
    await repo.add_rate_event(conn, keys.ip)
    user_id = user["id"] if user is not None else None
    await audit.record(
        conn,
        "login",
        result="failure",
        object_type="user" if user_id else None,
        object_id=user_id,
        origin=origin,
        failures=new_pair.failures,
        account_failures=new_account.failures,
    )
    if starts_lock:
        await audit.record(
            conn,
            "account.locked",
            object_type="user" if user_id else None,
            object_id=user_id,
            origin=origin,
            minutes=rt.policy.lock_minutes,
            scope="address",
        )
        if user is not None:
            await _tell_account_locked(conn, rt, user, one_address=True)


async def _tell_account_locked(
    conn: Conn, rt: Runtime, user: asyncpg.Record, *, one_address: bool = False
) -> None:
    """E-mail the person that their account is locked for a while (ASVS 6.3.4-like)."""
    if user["email"]:
        context: dict[str, Any] = {"locked_minutes": int(rt.policy.lock_minutes)}
        if one_address:
            context["locked_from_one_address"] = True
        await send_email(
            conn,
            "account_locked",
            recipient_email=user["email"],
            recipient_name=user["name"],
            subject_user_id=user["id"],
            context=context,
            locale=user["locale"],
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
    scope = session_scope(user)
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
        elif (locked := _second_factor_wait(user)) is not None:
            error = locked
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
            pair = await issue_session(
                conn, rt, user, scope=session_scope(user), amr=["pwd", "otp", "mfa"]
            )
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
    await _count_second_factor_failure(
        conn, rt, user, origin, action="login.mfa", token_ended=killed
    )
    if killed:
        return Unauthorized(BAD_CODE + " Log in again.", type_="mfa-token-invalid")
    return Unauthorized(BAD_CODE, type_="invalid-code")


async def _count_second_factor_failure(
    conn: Conn,
    rt: Runtime,
    user: asyncpg.Record,
    origin: str | None,
    *,
    action: str,
    **details: Any,
) -> None:
    """One more wrong code in a row (login or reset); the tenth locks the second step."""
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
        action,
        result="failure",
        object_type="user",
        object_id=user["id"],
        origin=origin,
        **details,
    )
    if locked:
        await audit.record(
            conn, "account.mfa_locked", object_type="user", object_id=user["id"], origin=origin
        )
        await _tell_account_locked(conn, rt, user)


def _second_factor_wait(user: asyncpg.Record) -> TooManyRequests | None:
    """429 while the second step is locked after too many wrong codes."""
    now = utcnow()
    if user["mfa_locked_until"] is not None and user["mfa_locked_until"] > now:
        wait = int((user["mfa_locked_until"] - now).total_seconds()) + 1
        return TooManyRequests(TOO_MANY, retry_after=wait)
    return None


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
                # Never more than the user may do now (a narrower scope stays narrow).
                scope = row["scope"] if row["scope"] != SCOPE_FULL else session_scope(user)
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
        # Every request counts against its address; only a matching one against the
        # account, so whoever knows just a username cannot use up its owner's reset mails.
        ip_limited = (
            await repo.count_rate_events(conn, ip_key, hour_ago) >= rt.policy.reset_per_ip_per_hour
        )
        account_limited = (
            await repo.count_rate_events(conn, account_key, hour_ago)
            >= rt.policy.reset_per_account_per_hour
        )
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
        limited = ip_limited or (matches and account_limited)
        await _reset_link_work(conn, rt, account_key, token, user, keep=matches and not limited)
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


async def _mail_reset_link(
    conn: Conn, rt: Runtime, user_id: uuid.UUID, email: str, name: str, token: str
) -> None:
    """Store a reset link (older ones die, reliability 5.4) and mail it."""
    expires_at = utcnow() + timedelta(minutes=rt.settings.reset_token_minutes)
    await repo.spend_password_tokens(conn, user_id)
    await repo.insert_password_token(
        conn, user_id=user_id, purpose="reset", token_hash=hash_token(token), expires_at=expires_at
    )
    await send_email(
        conn,
        "password_reset",
        recipient_email=email,
        recipient_name=name,
        subject_user_id=user_id,
        context={
            "reset_url": rt.link("wachtwoord-herstellen", token),
            "expires_minutes": rt.settings.reset_token_minutes,
        },
        expires_at=expires_at,
    )


DECOY_ADDRESS = "noreply@bibliotheekmonitor.nl"


async def _reset_link_work(
    conn: Conn,
    rt: Runtime,
    account_key: bytes,
    token: str,
    user: asyncpg.Record | None,
    *,
    keep: bool,
) -> None:
    """Count, store and mail a reset link; without `keep` the same statements run on some
    user towards a decoy address and are rolled back, so every answer takes as long."""
    user_id = user["id"] if user is not None else await _decoy_user_id(conn, rt)
    if user_id is None:
        return
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        await repo.add_rate_event(conn, account_key)
        if keep and user is not None:
            await _mail_reset_link(conn, rt, user_id, user["email"], user["name"], token)
        else:
            await _mail_reset_link(conn, rt, user_id, DECOY_ADDRESS, "", token)
    except BaseException:
        await savepoint.rollback()
        raise
    # Rolling back to the savepoint also drops its row locks and its NOTIFY.
    await (savepoint.commit() if keep else savepoint.rollback())


async def _decoy_user_id(conn: Conn, rt: Runtime) -> uuid.UUID | None:
    if rt.decoy_user_id is None:
        rt.decoy_user_id = await repo.any_user_id(conn)
    return rt.decoy_user_id


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
        assert locked_user is not None
        # ASVS 6.4.3: a reset does not bypass the second factor, nor its attempt limits.
        second_factor = link["purpose"] == "reset" and has_totp
        if second_factor and (locked := _second_factor_wait(locked_user)) is not None:
            error = locked
        elif second_factor and not (
            code and await _check_second_factor(conn, rt, locked_user, code)
        ):
            error = await _reset_code_failed(conn, rt, locked_user, link, origin)
        else:
            fields: dict[str, Any] = {
                "password_hash": password_hash,
                "password_changed_at": utcnow(),
            }
            if second_factor:
                fields["mfa_failures"] = 0  # a right code ends the run, as at the login
            await repo.update_user(conn, user["id"], fields)
            await repo.spend_password_tokens(conn, user["id"])
            await repo.revoke_user_sessions(conn, user["id"])  # ASVS 7.4.3
            await repo.clear_account_throttles(conn, throttle_key("login", user["username"]))
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


RESET_CODE_WRONG = "Enter a current code from your authenticator app (or a recovery code)."
RESET_LINK_SPENT = "Too many wrong codes: this link no longer works; request a new one."


async def _reset_code_failed(
    conn: Conn, rt: Runtime, user: asyncpg.Record, link: asyncpg.Record, origin: str | None
) -> Exception:
    """Count a missing or wrong code on a reset link; the fifth spends the link."""
    failures = link["failures"] + 1
    spent = failures >= rt.policy.mfa_failures_per_token
    await repo.count_password_token_failure(conn, link["id"], failures=failures, spent=spent)
    await _count_second_factor_failure(
        conn, rt, user, origin, action="password_reset.code", link_ended=spent
    )
    errors = [field_error("code", RESET_CODE_WRONG, "code_required")]
    if spent:
        errors.append(field_error("token", RESET_LINK_SPENT, "token_invalid"))
    return InvalidInput(RESET_LINK_SPENT if spent else RESET_CODE_WRONG, errors=errors)


# --- changing one's own password, first-login setup ------------------------------------

WRONG_CURRENT = "The current password is incorrect."
SAME_PASSWORD = "Choose a new password, not the one you have now."


def _password_problem(
    user: asyncpg.Record, new_password: str, email: str | None
) -> Exception | None:
    """422 on `new_password` when it breaks the rules for this user."""
    problem = check_password(
        new_password,
        min_length=min_password_length(
            has_totp=user["totp_confirmed_at"] is not None, roles=user["roles"]
        ),
        context=context_words(user["username"], user["name"], email, user["organisation_name"]),
    )
    if problem is None:
        return None
    return InvalidInput(
        problem.message, errors=[field_error("new_password", problem.message, problem.code)]
    )


async def _new_password_set(
    conn: Conn, rt: Runtime, user: asyncpg.Record, new_password: str, fields: dict[str, Any]
) -> None:
    """Store the new password; spend links, end every session, clear the throttles."""
    password_hash = await rt.hashing.hash(new_password)
    await repo.update_user(
        conn, user["id"], {"password_hash": password_hash, "password_changed_at": utcnow()} | fields
    )
    await repo.spend_password_tokens(conn, user["id"])
    await repo.revoke_user_sessions(conn, user["id"])  # ASVS 7.4.3
    await repo.clear_account_throttles(conn, throttle_key("login", user["username"]))


async def change_password(
    pool: asyncpg.Pool,
    rt: Runtime,
    *,
    user_id: uuid.UUID,
    current_password: str,
    new_password: str,
    amr: list[str],
    origin: str | None,
) -> TokenPair:
    """Change one's own password; every session ends, this device gets fresh tokens."""
    error: Exception | None = None
    pair: TokenPair | None = None
    async with pool.acquire() as conn, conn.transaction():
        user = await repo.get_user(conn, user_id, for_update=True)
        if user is None or user["disabled"]:
            raise Unauthorized(SESSION_ENDED, type_="session-ended")
        # Guessing the current password here counts as guessing it at the login.
        keys = LoginKeys.of(user["username"], origin)
        wait, account, pair_state = await _throttle_state(conn, rt, keys)
        if wait is not None:
            error = TooManyRequests(TOO_MANY, retry_after=wait)
        elif not await rt.hashing.verify(user["password_hash"], current_password):
            await _login_failed(conn, rt, user, account, pair_state, keys, origin)
            error = InvalidInput(
                WRONG_CURRENT,
                errors=[field_error("current_password", WRONG_CURRENT, "incorrect")],
            )
        elif (problem := _password_problem(user, new_password, user["email"])) is not None:
            error = problem
        elif hmac.compare_digest(current_password.encode(), new_password.encode()):
            error = InvalidInput(
                SAME_PASSWORD, errors=[field_error("new_password", SAME_PASSWORD, "unchanged")]
            )
        else:
            await _new_password_set(conn, rt, user, new_password, {})
            await audit.record(
                conn,
                "password.set",
                actor=user_id,
                object_type="user",
                object_id=user_id,
                origin=origin,
                via="change",
            )
            if user["email"]:
                await send_email(  # ASVS 6.3.6: tell the user
                    conn,
                    "password_changed",
                    recipient_email=user["email"],
                    recipient_name=user["name"],
                    subject_user_id=user_id,
                    locale=user["locale"],
                )
            fresh = await repo.get_user(conn, user_id)
            assert fresh is not None
            pair = await issue_session(conn, rt, fresh, scope=session_scope(fresh), amr=amr)
    if error is not None:
        raise error
    assert pair is not None
    return pair


async def account_setup(
    pool: asyncpg.Pool,
    rt: Runtime,
    *,
    user_id: uuid.UUID,
    email: str,
    new_password: str,
    amr: list[str],
    origin: str | None,
) -> TokenPair:
    """First login of the bootstrap admin: an e-mail address and an own password, once."""
    address = email_or_error(email)
    async with pool.acquire() as conn, conn.transaction():
        user = await repo.get_user(conn, user_id, for_update=True)
        if user is None or user["disabled"]:
            raise Unauthorized(SESSION_ENDED, type_="session-ended")
        if not user["setup_required"]:
            raise Conflict("The account has been set up already.", type_="account-already-set-up")
        problem = _password_problem(user, new_password, address)
        if problem is not None:
            raise problem
        if await rt.hashing.verify(user["password_hash"], new_password):
            raise InvalidInput(
                SAME_PASSWORD, errors=[field_error("new_password", SAME_PASSWORD, "unchanged")]
            )
        await _new_password_set(
            conn, rt, user, new_password, {"email": address, "setup_required": False}
        )
        await audit.record(
            conn,
            "account.setup",
            actor=user_id,
            object_type="user",
            object_id=user_id,
            origin=origin,
        )
        fresh = await repo.get_user(conn, user_id)
        assert fresh is not None
        return await issue_session(conn, rt, fresh, scope=session_scope(fresh), amr=amr)
