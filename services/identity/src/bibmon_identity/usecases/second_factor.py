"""The second factor at the login and at a reset: codes, their lock, the TOTP seed (ASVS 6.5)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import structlog

from bibmon_common.errors import TooManyRequests
from bibmon_identity import repository as repo
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain import totp
from bibmon_identity.domain.tokens import hash_recovery_code, looks_like_recovery_code
from bibmon_identity.repository import Conn, UserRow
from bibmon_identity.usecases import audit
from bibmon_identity.usecases.mail import send_email

log = structlog.get_logger(__name__)

TOO_MANY = "Too many attempts; wait before trying again."


async def tell_account_locked(
    deps: IdentityDeps, conn: Conn, user: UserRow, *, one_address: bool = False
) -> None:
    """E-mail the person that their account is locked for a while (ASVS 6.3.4-like)."""
    if user.email:
        context: dict[str, Any] = {"locked_minutes": int(deps.policy.lock_minutes)}
        if one_address:
            context["locked_from_one_address"] = True
        await send_email(
            deps,
            conn,
            "account_locked",
            recipient_email=user.email,
            recipient_name=user.name,
            subject_user_id=user.id,
            context=context,
            locale=user.locale,
        )


async def check_second_factor(deps: IdentityDeps, conn: Conn, user: UserRow, code: str) -> bool:
    """True for a current TOTP code (its step is spent) or an unused recovery code (spent)."""
    if looks_like_recovery_code(code):
        return await repo.use_recovery_code(conn, user.id, hash_recovery_code(code))
    secret = decrypt_totp_secret(deps, user)
    step = totp.verify(secret, code, last_step=user.totp_last_step)
    if step is None:
        return False
    await repo.update_user(conn, user.id, {"totp_last_step": step})
    return True


async def count_second_factor_failure(
    deps: IdentityDeps,
    conn: Conn,
    user: UserRow,
    origin: str | None,
    *,
    action: str,
    **details: Any,
) -> None:
    """One more wrong code in a row (login or reset); the tenth locks the second step."""
    user_failures = user.mfa_failures + 1
    fields: dict[str, Any] = {"mfa_failures": user_failures}
    locked = user_failures >= deps.policy.mfa_failures_lock
    if locked:
        fields = {
            "mfa_failures": 0,
            "mfa_locked_until": deps.now() + timedelta(minutes=deps.policy.lock_minutes),
        }
    await repo.update_user(conn, user.id, fields)
    await audit.record(
        conn,
        action,
        result="failure",
        object_type="user",
        object_id=user.id,
        origin=origin,
        **details,
    )
    if locked:
        await audit.record(
            conn, "account.mfa_locked", object_type="user", object_id=user.id, origin=origin
        )
        await tell_account_locked(deps, conn, user)


def second_factor_wait(user: UserRow, now: datetime) -> TooManyRequests | None:
    """429 while the second step is locked after too many wrong codes."""
    if user.mfa_locked_until is not None and user.mfa_locked_until > now:
        wait = int((user.mfa_locked_until - now).total_seconds()) + 1
        return TooManyRequests(TOO_MANY, retry_after=wait)
    return None


def _totp_binding(user_id: uuid.UUID) -> bytes:
    # AES-GCM associated data: a seed decrypts only in its own user's row.
    return f"totp:{user_id}".encode()


def encrypt_totp_secret(deps: IdentityDeps, user_id: uuid.UUID, secret: str) -> bytes:
    """The TOTP seed as stored in the user's row."""
    return deps.cipher.encrypt(secret.encode(), _totp_binding(user_id))


def decrypt_totp_secret(deps: IdentityDeps, user: UserRow) -> str:
    """The user's TOTP seed in clear (only in memory)."""
    assert user.totp_secret is not None, "no TOTP seed stored"
    return deps.cipher.decrypt(user.totp_secret, _totp_binding(user.id)).decode()
