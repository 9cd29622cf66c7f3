"""TOTP enrolment and confirmation (ASVS 5.0 6.5; RFC 6238)."""

from __future__ import annotations

import uuid

from bibmon_common.errors import Conflict, InvalidInput, field_error
from bibmon_identity import repository as repo
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain import totp
from bibmon_identity.domain.tokens import hash_recovery_code, new_recovery_codes
from bibmon_identity.models import TotpEnrolmentOut
from bibmon_identity.repository import Conn, UserRow
from bibmon_identity.usecases import audit
from bibmon_identity.usecases.second_factor import decrypt_totp_secret, encrypt_totp_secret
from bibmon_identity.usecases.sessions import TokenPair, issue_session, session_scope
from bibmon_identity.usecases.users import existing_user

WRONG_CODE = "The code is incorrect; check the time on your device and try the next code."


async def _not_yet_enrolled(conn: Conn, user_id: uuid.UUID) -> UserRow:
    """The user's row, locked; 404 when gone, 409 when TOTP is already active."""
    user = await existing_user(conn, user_id, for_update=True)
    if user.totp_confirmed_at is not None:
        raise Conflict("Two-factor authentication is already set up.", type_="mfa-already-enrolled")
    return user


async def enrol(deps: IdentityDeps, user_id: uuid.UUID, origin: str | None) -> TotpEnrolmentOut:
    """Start (or restart) enrolment: a new seed, not yet active until confirmed."""
    async with deps.transaction() as conn:
        user = await _not_yet_enrolled(conn, user_id)
        secret = totp.new_secret()
        encrypted = encrypt_totp_secret(deps, user_id, secret)
        await repo.update_user(conn, user_id, {"totp_secret": encrypted, "totp_last_step": None})
        await audit.record(
            conn,
            "mfa.enrol_started",
            actor=user_id,
            object_type="user",
            object_id=user_id,
            origin=origin,
        )
    uri = totp.provisioning_uri(secret, user.username)
    return TotpEnrolmentOut(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))


async def confirm(
    deps: IdentityDeps, user_id: uuid.UUID, code: str, origin: str | None
) -> tuple[list[str], TokenPair]:
    """Activate TOTP with a first code; answer recovery codes and a full session."""
    codes = new_recovery_codes()
    error: Exception | None = None
    pair: TokenPair | None = None
    async with deps.transaction() as conn:
        user = await _not_yet_enrolled(conn, user_id)
        if user.totp_secret is None:
            raise Conflict("Start the enrolment first.", type_="mfa-not-started")
        secret = decrypt_totp_secret(deps, user)
        step = totp.verify(secret, code, last_step=user.totp_last_step)
        if step is None:
            error = InvalidInput(
                WRONG_CODE, errors=[field_error("code", WRONG_CODE, "invalid_code")]
            )
            await audit.record(
                conn,
                "mfa.confirm",
                result="failure",
                actor=user_id,
                object_type="user",
                object_id=user_id,
                origin=origin,
            )
        else:
            await repo.update_user(
                conn, user_id, {"totp_confirmed_at": deps.now(), "totp_last_step": step}
            )
            await repo.replace_recovery_codes(conn, user_id, [hash_recovery_code(c) for c in codes])
            # ASVS 7.4.3: a change of authentication factors ends the other sessions.
            await repo.revoke_user_sessions(conn, user_id, now=deps.now(), source=deps.source)
            await audit.record(
                conn,
                "mfa.enrolled",
                actor=user_id,
                object_type="user",
                object_id=user_id,
                origin=origin,
            )
            fresh = await existing_user(conn, user_id)
            pair = await issue_session(
                deps, conn, fresh, scope=session_scope(fresh), amr=["pwd", "otp", "mfa"]
            )
    if error is not None:
        raise error
    assert pair is not None
    return codes, pair
