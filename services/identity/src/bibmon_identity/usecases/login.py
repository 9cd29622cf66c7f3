"""Login: the password step (with its throttles) and the second step (TOTP or recovery code).

Sources: ASVS 5.0 V6 (authentication); NIST SP 800-63B-4; docs/reliability.md 5.3.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from bibmon_common.errors import TooManyRequests, Unauthorized
from bibmon_identity import repository as repo
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain import signing
from bibmon_identity.domain.throttling import (
    AccountState,
    known_address_key,
    pair_key,
    record_failure,
    retry_after,
    throttle_key,
)
from bibmon_identity.repository import Conn, MfaChallengeRow, UserRow
from bibmon_identity.usecases import audit
from bibmon_identity.usecases.second_factor import (
    TOO_MANY,
    check_second_factor,
    count_second_factor_failure,
    second_factor_wait,
    tell_account_locked,
)
from bibmon_identity.usecases.sessions import SESSION_ENDED, TokenPair, issue_session, session_scope

log = structlog.get_logger(__name__)

# One message for unknown user, wrong password and disabled account (ASVS 6.3.8).
BAD_CREDENTIALS = "The username or password is incorrect."
BAD_CODE = "The code is incorrect or has already been used."


@dataclass(frozen=True)
class MfaRequired:
    """The password was right; the second factor is next."""

    mfa_token: str
    expires_in: int

    def body(self) -> dict[str, Any]:
        """The JSON answer."""
        return {"mfa_required": True, "mfa_token": self.mfa_token, "expires_in": self.expires_in}


async def _ip_retry_after(deps: IdentityDeps, conn: Conn, ip_key: bytes) -> int | None:
    window = timedelta(seconds=deps.policy.ip_window_seconds)
    since = deps.now() - window
    if await repo.count_rate_events(conn, ip_key, since) < deps.policy.ip_failures:
        return None
    oldest = await repo.oldest_rate_event(conn, ip_key, since)
    return max(1, int((oldest + window - deps.now()).total_seconds()) + 1)


async def login(
    deps: IdentityDeps, *, username: str, password: str, origin: str | None
) -> TokenPair | MfaRequired:
    """Check a username and password; answer tokens, an MFA step, 401 or 429."""
    keys = LoginKeys.of(username, origin)
    outcome: str
    wait: int | None = None
    result: TokenPair | MfaRequired | None = None
    async with deps.transaction() as conn:
        wait, account, pair = await login_throttle_state(deps, conn, keys)
        if wait is not None:
            outcome = "throttled"
        else:
            user = await repo.get_user_by_username(conn, username)
            stored = user.password_hash if user is not None else None
            ok = await deps.hashing.verify(stored, password)
            if ok and user is not None and not user.disabled:
                outcome = "success"
                result = await _after_password(deps, conn, user, password, origin)
                await repo.clear_throttle(conn, keys.account)
                await repo.clear_throttle(conn, keys.pair)
                await repo.remember_address(conn, keys.known)
            else:
                outcome = "failure"
                await record_login_failure(deps, conn, user, account, pair, keys, origin)
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


async def login_throttle_state(
    deps: IdentityDeps, conn: Conn, keys: LoginKeys
) -> tuple[int | None, AccountState, AccountState]:
    """Seconds to wait (or None), and the account's and the pair's state, rows locked."""
    wait = await _ip_retry_after(deps, conn, keys.ip)
    # Account row first, then the pair's: one order, so concurrent attempts never deadlock.
    account = await repo.lock_throttle(conn, keys.account)  # serialises per name
    pair = await repo.lock_throttle(conn, keys.pair, keys.account)
    now = deps.now()
    if wait is None:
        wait = retry_after(pair, now, deps.policy)
    if wait is None and not await repo.is_known_address(conn, keys.known):
        wait = retry_after(account, now, deps.policy)
    return wait, account, pair


async def record_login_failure(
    deps: IdentityDeps,
    conn: Conn,
    user: UserRow | None,
    account: AccountState,
    pair: AccountState,
    keys: LoginKeys,
    origin: str | None,
) -> None:
    """Count a wrong password: slow the account down, lock this address out after many."""
    now = deps.now()
    # The account only slows down; the lock falls on this address alone (NIST 800-63B-4).
    new_account, _ = record_failure(account, now, deps.policy, lock=False)
    new_pair, starts_lock = record_failure(pair, now, deps.policy)
    for key, state in ((keys.account, new_account), (keys.pair, new_pair)):
        await repo.save_throttle(
            conn,
            key,
            failures=state.failures,
            last_failure_at=now,
            locked_until=state.locked_until,
        )
    await repo.add_rate_event(conn, keys.ip)
    user_id = user.id if user is not None else None
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
            minutes=deps.policy.lock_minutes,
            scope="address",
        )
        if user is not None:
            await tell_account_locked(deps, conn, user, one_address=True)


async def _after_password(
    deps: IdentityDeps,
    conn: Conn,
    user: UserRow,
    password: str,
    origin: str | None,
) -> TokenPair | MfaRequired:
    if user.password_hash is not None and deps.hashing.needs_rehash(
        user.password_hash
    ):  # parameters changed since
        await repo.update_user(conn, user.id, {"password_hash": await deps.hashing.hash(password)})
    if user.totp_confirmed_at is not None:
        now = deps.now()
        lifetime = timedelta(minutes=deps.settings.mfa_token_minutes)
        challenge_id = uuid.uuid4()
        await repo.insert_mfa_challenge(conn, challenge_id, user.id, now + lifetime)
        await audit.record(
            conn,
            "login.password",
            actor=user.id,
            object_type="user",
            object_id=user.id,
            origin=origin,
            next="mfa",
        )
        token = signing.issue_mfa_token(
            await deps.keys.current(),
            issuer=deps.issuer,
            challenge_id=challenge_id,
            user_id=user.id,
            now=now,
            lifetime=lifetime,
        )
        return MfaRequired(token, int(lifetime.total_seconds()))
    scope = session_scope(user)
    await repo.update_user(conn, user.id, {"last_login_at": deps.now()})
    await audit.record(
        conn,
        "login",
        actor=user.id,
        object_type="user",
        object_id=user.id,
        origin=origin,
        scope=scope,
    )
    return await issue_session(deps, conn, user, scope=scope, amr=["pwd"])


async def login_mfa(
    deps: IdentityDeps, *, mfa_token: str, code: str, origin: str | None
) -> TokenPair:
    """The second step: a TOTP code or a recovery code for the user of `mfa_token`."""
    ids = signing.verify_mfa_token(
        mfa_token, await deps.keys.all(), issuer=deps.issuer, now=deps.now()
    )
    if ids is None:
        raise Unauthorized(SESSION_ENDED, type_="mfa-token-invalid")
    challenge_id, user_id = ids
    error: Exception | None = None
    pair: TokenPair | None = None
    async with deps.transaction() as conn:
        challenge = await repo.get_mfa_challenge(conn, challenge_id)
        user = await repo.get_user(conn, user_id, for_update=True)
        now = deps.now()
        if (
            challenge is None
            or user is None
            or challenge.user_id != user_id
            or challenge.used_at is not None
            or challenge.expires_at <= now
            or user.disabled
            or user.totp_confirmed_at is None
        ):
            error = Unauthorized(SESSION_ENDED, type_="mfa-token-invalid")
        elif (locked := second_factor_wait(user, now)) is not None:
            error = locked
        elif await check_second_factor(deps, conn, user, code):
            await repo.update_mfa_challenge(
                conn, challenge_id, failures=challenge.failures, used=True
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
                deps, conn, user, scope=session_scope(user), amr=["pwd", "otp", "mfa"]
            )
        else:
            error = await _mfa_failed(deps, conn, user, challenge, origin)
    if error is not None:
        raise error
    assert pair is not None
    return pair


async def _mfa_failed(
    deps: IdentityDeps,
    conn: Conn,
    user: UserRow,
    challenge: MfaChallengeRow,
    origin: str | None,
) -> Exception:
    failures = challenge.failures + 1
    # 5 wrong codes end this mfa_token; 10 in a row across logins lock the second step.
    killed = failures >= deps.policy.mfa_failures_per_token
    await repo.update_mfa_challenge(conn, challenge.id, failures=failures, used=killed)
    await count_second_factor_failure(
        deps, conn, user, origin, action="login.mfa", token_ended=killed
    )
    if killed:
        return Unauthorized(BAD_CODE + " Log in again.", type_="mfa-token-invalid")
    return Unauthorized(BAD_CODE, type_="invalid-code")
