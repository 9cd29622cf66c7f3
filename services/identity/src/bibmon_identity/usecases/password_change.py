"""Changing one's own password, and the bootstrap admin's first-login setup."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

import structlog

from bibmon_common.errors import (
    Conflict,
    InvalidInput,
    TooManyRequests,
    Unauthorized,
    field_error,
)
from bibmon_identity import repository as repo
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain.passwords import check_password, context_words
from bibmon_identity.domain.throttling import throttle_key
from bibmon_identity.domain.users import min_password_length
from bibmon_identity.repository import Conn, UserRow
from bibmon_identity.usecases import audit
from bibmon_identity.usecases.login import (
    TOO_MANY,
    LoginKeys,
    login_throttle_state,
    record_login_failure,
)
from bibmon_identity.usecases.mail import send_email
from bibmon_identity.usecases.sessions import SESSION_ENDED, TokenPair, issue_session, session_scope
from bibmon_identity.usecases.users import email_or_error

log = structlog.get_logger(__name__)

WRONG_CURRENT = "The current password is incorrect."
SAME_PASSWORD = "Choose a new password, not the one you have now."


def _password_problem(user: UserRow, new_password: str, email: str | None) -> Exception | None:
    """422 on `new_password` when it breaks the rules for this user."""
    problem = check_password(
        new_password,
        min_length=min_password_length(
            has_totp=user.totp_confirmed_at is not None, roles=user.roles
        ),
        context=context_words(user.username, user.name, email, user.organisation_name),
    )
    if problem is None:
        return None
    return InvalidInput(
        problem.message, errors=[field_error("new_password", problem.message, problem.code)]
    )


async def _new_password_set(
    deps: IdentityDeps, conn: Conn, user: UserRow, new_password: str, fields: dict[str, Any]
) -> None:
    """Store the new password; spend links, end every session, clear the throttles."""
    password_hash = await deps.hashing.hash(new_password)
    await repo.update_user(
        conn, user.id, {"password_hash": password_hash, "password_changed_at": deps.now()} | fields
    )
    await repo.spend_password_tokens(conn, user.id)
    # ASVS 7.4.3: a new password ends every session.
    await repo.revoke_user_sessions(conn, user.id, now=deps.now(), source=deps.source)
    await repo.clear_account_throttles(conn, throttle_key("login", user.username))


async def change_password(
    deps: IdentityDeps,
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
    async with deps.transaction() as conn:
        user = await repo.get_user(conn, user_id, for_update=True)
        if user is None or user.disabled:
            raise Unauthorized(SESSION_ENDED, type_="session-ended")
        # Guessing the current password here counts as guessing it at the login.
        keys = LoginKeys.of(user.username, origin)
        wait, account, pair_state = await login_throttle_state(deps, conn, keys)
        if wait is not None:
            error = TooManyRequests(TOO_MANY, retry_after=wait)
        elif not await deps.hashing.verify(user.password_hash, current_password):
            await record_login_failure(deps, conn, user, account, pair_state, keys, origin)
            error = InvalidInput(
                WRONG_CURRENT,
                errors=[field_error("current_password", WRONG_CURRENT, "incorrect")],
            )
        elif (problem := _password_problem(user, new_password, user.email)) is not None:
            error = problem
        elif hmac.compare_digest(current_password.encode(), new_password.encode()):
            error = InvalidInput(
                SAME_PASSWORD, errors=[field_error("new_password", SAME_PASSWORD, "unchanged")]
            )
        else:
            await _new_password_set(deps, conn, user, new_password, {})
            await audit.record(
                conn,
                "password.set",
                actor=user_id,
                object_type="user",
                object_id=user_id,
                origin=origin,
                via="change",
            )
            if user.email:
                await send_email(  # ASVS 6.3.6: tell the user
                    deps,
                    conn,
                    "password_changed",
                    recipient_email=user.email,
                    recipient_name=user.name,
                    subject_user_id=user_id,
                    locale=user.locale,
                )
            fresh = await repo.get_user(conn, user_id)
            assert fresh is not None
            pair = await issue_session(deps, conn, fresh, scope=session_scope(fresh), amr=amr)
    if error is not None:
        raise error
    assert pair is not None
    return pair


async def account_setup(
    deps: IdentityDeps,
    *,
    user_id: uuid.UUID,
    email: str,
    new_password: str,
    amr: list[str],
    origin: str | None,
) -> TokenPair:
    """First login of the bootstrap admin: an e-mail address and an own password, once."""
    address = email_or_error(email)
    async with deps.transaction() as conn:
        user = await repo.get_user(conn, user_id, for_update=True)
        if user is None or user.disabled:
            raise Unauthorized(SESSION_ENDED, type_="session-ended")
        if not user.setup_required:
            raise Conflict("The account has been set up already.", type_="account-already-set-up")
        problem = _password_problem(user, new_password, address)
        if problem is not None:
            raise problem
        if await deps.hashing.verify(user.password_hash, new_password):
            raise InvalidInput(
                SAME_PASSWORD, errors=[field_error("new_password", SAME_PASSWORD, "unchanged")]
            )
        await _new_password_set(
            deps, conn, user, new_password, {"email": address, "setup_required": False}
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
        return await issue_session(deps, conn, fresh, scope=session_scope(fresh), amr=amr)
