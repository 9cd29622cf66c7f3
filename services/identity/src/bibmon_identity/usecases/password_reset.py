"""Forgotten password and reset or activation links (ASVS 6.3, 6.4; docs/reliability.md 5.4)."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime, timedelta
from typing import Any

import structlog

from bibmon_common.errors import InvalidInput, field_error
from bibmon_identity import repository as repo
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain.passwords import check_password, context_words
from bibmon_identity.domain.throttling import throttle_key
from bibmon_identity.domain.tokens import hash_token, new_token
from bibmon_identity.domain.users import min_password_length
from bibmon_identity.models import AcceptedOut
from bibmon_identity.repository import Conn, PasswordLinkRow, UserRow
from bibmon_identity.usecases import audit
from bibmon_identity.usecases.mail import send_email
from bibmon_identity.usecases.second_factor import (
    check_second_factor,
    count_second_factor_failure,
    second_factor_wait,
)

log = structlog.get_logger(__name__)

RESET_ACCEPTED = AcceptedOut(
    status="accepted",
    detail="If the username and e-mail address belong to an account, a link to set a new "
    "password is on its way. The link is valid for a short time.",
)


async def password_forgotten(
    deps: IdentityDeps, *, username: str, email: str, origin: str | None
) -> AcceptedOut:
    """Mail a reset link when username and e-mail match; the answer never tells."""
    account_key = throttle_key("reset", username)
    ip_key = throttle_key("reset-ip", origin or "unknown")
    # The token is made whether or not it is used, so both paths do the same work.
    token = new_token()
    async with deps.transaction() as conn:
        hour_ago = deps.now() - timedelta(hours=1)
        # Every request counts against its address; only a matching one against the
        # account, so whoever knows just a username cannot use up its owner's reset mails.
        ip_limited = (
            await repo.count_rate_events(conn, ip_key, hour_ago)
            >= deps.policy.reset_per_ip_per_hour
        )
        account_limited = (
            await repo.count_rate_events(conn, account_key, hour_ago)
            >= deps.policy.reset_per_account_per_hour
        )
        await repo.add_rate_event(conn, ip_key)
        user = await repo.get_user_by_username(conn, username)
        matches = (
            user is not None
            and not user.disabled
            and user.email is not None
            and hmac.compare_digest(
                user.email.casefold().encode(), email.strip().casefold().encode()
            )
        )
        limited = ip_limited or (matches and account_limited)
        await _reset_link_work(deps, conn, account_key, token, user, keep=matches and not limited)
        result = "sent" if matches and not limited else ("limited" if limited else "no_match")
        await audit.record(
            conn,
            "password_reset.requested",
            result=result,
            object_type="user" if user is not None else None,
            object_id=user.id if user is not None else None,
            origin=origin,
        )
    return RESET_ACCEPTED


async def _mail_reset_link(
    deps: IdentityDeps, conn: Conn, user_id: uuid.UUID, email: str, name: str, token: str
) -> None:
    """Store a reset link (older ones die, reliability 5.4) and mail it."""
    expires_at = deps.now() + timedelta(minutes=deps.settings.reset_token_minutes)
    await repo.spend_password_tokens(conn, user_id)
    await repo.insert_password_token(
        conn, user_id=user_id, purpose="reset", token_hash=hash_token(token), expires_at=expires_at
    )
    await send_email(
        deps,
        conn,
        "password_reset",
        recipient_email=email,
        recipient_name=name,
        subject_user_id=user_id,
        context={
            "reset_url": deps.link("wachtwoord-herstellen", token),
            "expires_minutes": deps.settings.reset_token_minutes,
        },
        expires_at=expires_at,
    )


DECOY_ADDRESS = "noreply@bibliotheekmonitor.nl"


async def _reset_link_work(
    deps: IdentityDeps,
    conn: Conn,
    account_key: bytes,
    token: str,
    user: UserRow | None,
    *,
    keep: bool,
) -> None:
    """Count, store and mail a reset link; without `keep` the same statements run on some
    user towards a decoy address and are rolled back, so every answer takes as long."""
    user_id = user.id if user is not None else await _decoy_user_id(deps, conn)
    if user_id is None:
        return
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        await repo.add_rate_event(conn, account_key)
        if keep and user is not None and user.email is not None:
            await _mail_reset_link(deps, conn, user_id, user.email, user.name, token)
        else:
            await _mail_reset_link(deps, conn, user_id, DECOY_ADDRESS, "", token)
    except BaseException:
        await savepoint.rollback()
        raise
    # Rolling back to the savepoint also drops its row locks and its NOTIFY.
    await (savepoint.commit() if keep else savepoint.rollback())


async def _decoy_user_id(deps: IdentityDeps, conn: Conn) -> uuid.UUID | None:
    if deps.decoy.user_id is None:
        deps.decoy.user_id = await repo.any_user_id(conn)
    return deps.decoy.user_id


INVALID_LINK = "This link is invalid, used or expired; request a new one."


async def _usable_link(
    conn: Conn, token_hash: bytes, now: datetime, *, for_update: bool = False
) -> PasswordLinkRow:
    """The reset or activation link of a hash, or 422 when unknown, used or expired."""
    link = await repo.find_password_token(conn, token_hash, for_update=for_update)
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise InvalidInput(
            INVALID_LINK, errors=[field_error("token", INVALID_LINK, "token_invalid")]
        )
    return link


async def password_reset(
    deps: IdentityDeps,
    *,
    token: str,
    new_password: str,
    code: str | None,
    origin: str | None,
) -> None:
    """Set a password from a reset or activation link (single use); end all sessions."""
    token_hash = hash_token(token)
    async with deps.connection() as conn:
        link = await _usable_link(conn, token_hash, deps.now())
        user = await repo.get_user(conn, link.user_id)
    assert user is not None
    has_totp = user.totp_confirmed_at is not None
    problem = check_password(
        new_password,
        min_length=min_password_length(has_totp=has_totp, roles=user.roles),
        context=context_words(user.username, user.name, user.email, user.organisation_name),
    )
    if problem is not None:
        raise InvalidInput(
            problem.message, errors=[field_error("new_password", problem.message, problem.code)]
        )
    password_hash = await deps.hashing.hash(new_password)
    error: Exception | None = None
    async with deps.transaction() as conn:
        link = await _usable_link(conn, token_hash, deps.now(), for_update=True)
        locked_user = await repo.get_user(conn, user.id, for_update=True)
        assert locked_user is not None
        # ASVS 6.4.3: a reset does not bypass the second factor, nor its attempt limits.
        second_factor = link.purpose == "reset" and has_totp
        if second_factor and (locked := second_factor_wait(locked_user, deps.now())) is not None:
            error = locked
        elif second_factor and not (
            code and await check_second_factor(deps, conn, locked_user, code)
        ):
            error = await _reset_code_failed(deps, conn, locked_user, link, origin)
        else:
            await _password_set_from_link(
                deps, conn, user, link, password_hash, second_factor=second_factor, origin=origin
            )
    if error is not None:
        raise error


async def _password_set_from_link(
    deps: IdentityDeps,
    conn: Conn,
    user: UserRow,
    link: PasswordLinkRow,
    password_hash: str,
    *,
    second_factor: bool,
    origin: str | None,
) -> None:
    """Store the password; spend the links, end every session, clear the throttles."""
    fields: dict[str, Any] = {"password_hash": password_hash, "password_changed_at": deps.now()}
    if second_factor:
        fields["mfa_failures"] = 0  # a right code ends the run, as at the login
    await repo.update_user(conn, user.id, fields)
    await repo.spend_password_tokens(conn, user.id)
    # ASVS 7.4.3: a new password ends every session.
    await repo.revoke_user_sessions(conn, user.id, now=deps.now(), source=deps.source)
    await repo.clear_account_throttles(conn, throttle_key("login", user.username))
    await audit.record(
        conn,
        "password.set",
        actor=user.id,
        object_type="user",
        object_id=user.id,
        origin=origin,
        via=link.purpose,
    )
    if user.email and link.purpose == "reset":
        await send_email(  # ASVS 6.3.6: tell the user
            deps,
            conn,
            "password_changed",
            recipient_email=user.email,
            recipient_name=user.name,
            subject_user_id=user.id,
        )


RESET_CODE_WRONG = "Enter a current code from your authenticator app (or a recovery code)."
RESET_LINK_SPENT = "Too many wrong codes: this link no longer works; request a new one."


async def _reset_code_failed(
    deps: IdentityDeps, conn: Conn, user: UserRow, link: PasswordLinkRow, origin: str | None
) -> Exception:
    """Count a missing or wrong code on a reset link; the fifth spends the link."""
    failures = link.failures + 1
    spent = failures >= deps.policy.mfa_failures_per_token
    await repo.count_password_token_failure(conn, link.id, failures=failures, spent=spent)
    await count_second_factor_failure(
        deps, conn, user, origin, action="password_reset.code", link_ended=spent
    )
    errors = [field_error("code", RESET_CODE_WRONG, "code_required")]
    if spent:
        errors.append(field_error("token", RESET_LINK_SPENT, "token_invalid"))
    return InvalidInput(RESET_LINK_SPENT if spent else RESET_CODE_WRONG, errors=errors)
