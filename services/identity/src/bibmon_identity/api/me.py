"""The caller's own account: profile, AVG export, password, first-login setup, TOTP."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from bibmon_common.auth import AnyScopePrincipal, CurrentPrincipal
from bibmon_identity.api.login import NO_STORE, token_response
from bibmon_identity.api.params import Origin
from bibmon_identity.deps import Deps
from bibmon_identity.models import (
    AccountSetupIn,
    MeOut,
    PasswordChangeIn,
    TokenOut,
    TotpConfirmedOut,
    TotpConfirmIn,
    TotpEnrolmentOut,
)
from bibmon_identity.usecases import mfa, password_change, users

router = APIRouter(tags=["me"])


@router.get("/me", response_model=MeOut, summary="The caller's account")
async def me(principal: AnyScopePrincipal, deps: Deps) -> MeOut:
    """Works with an enrolment-only token too, so the client knows what to ask."""
    return await users.me(deps, principal.user_id)


@router.get("/me/export", summary="All personal data held on the caller (AVG art. 15/20)")
async def export(principal: CurrentPrincipal, deps: Deps) -> JSONResponse:
    """A JSON download."""
    data = await users.export(deps, principal.user_id)
    return JSONResponse(
        jsonable_encoder(data.model_dump()),  # datetimes as isoformat(), as always
        headers=NO_STORE
        | {"Content-Disposition": 'attachment; filename="bibliotheekmonitor-export.json"'},
    )


@router.post("/me/mfa/totp", response_model=TotpEnrolmentOut, summary="Start TOTP enrolment")
async def enrol_totp(principal: AnyScopePrincipal, deps: Deps, origin: Origin) -> JSONResponse:
    """A new seed (base32), its otpauth URI and a QR code; active after confirmation."""
    enrolment = await mfa.enrol(deps, principal.user_id, origin)
    return JSONResponse(enrolment.model_dump(), headers=NO_STORE)


@router.post(
    "/me/mfa/totp/confirm",
    response_model=TotpConfirmedOut,
    summary="Confirm TOTP with a first code",
)
async def confirm_totp(
    body: TotpConfirmIn, principal: AnyScopePrincipal, deps: Deps, origin: Origin
) -> JSONResponse:
    """Recovery codes (shown once) and a full token pair; other sessions end."""
    codes, pair = await mfa.confirm(deps, principal.user_id, body.code, origin)
    return token_response(deps, pair.body() | {"recovery_codes": codes}, pair)


@router.post("/me/password", response_model=TokenOut, summary="Change one's own password")
async def change_password(
    body: PasswordChangeIn, principal: CurrentPrincipal, deps: Deps, origin: Origin
) -> JSONResponse:
    """Every session ends (ASVS 7.4.3); this device goes on with the fresh tokens answered."""
    pair = await password_change.change_password(
        deps,
        user_id=principal.user_id,
        current_password=body.current_password,
        new_password=body.new_password,
        amr=list(principal.claims.get("amr", ["pwd"])),
        origin=origin,
    )
    return token_response(deps, pair.body(), pair)


@router.post(
    "/me/account-setup",
    response_model=TokenOut,
    summary="First login: set an e-mail address and an own password",
)
async def account_setup(
    body: AccountSetupIn, principal: AnyScopePrincipal, deps: Deps, origin: Origin
) -> JSONResponse:
    """For a token of scope `account_setup` (the bootstrap admin); 409 once done."""
    pair = await password_change.account_setup(
        deps,
        user_id=principal.user_id,
        email=body.email,
        new_password=body.new_password,
        amr=list(principal.claims.get("amr", ["pwd"])),
        origin=origin,
    )
    return token_response(deps, pair.body(), pair)
