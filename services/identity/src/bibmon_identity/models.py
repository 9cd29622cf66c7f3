"""Request and response bodies of the identity API: what use cases take and return.

The use cases return these models and the routes answer them as they are (the OpenAPI
document names them). Stored rows are the repository's (`bibmon_identity.repository`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from bibmon_identity.repository import AuditEntryRow, ContactRegistrationRow, SessionRow

Role = Literal["library_staff", "kb_admin", "researcher"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


# Generous caps: the password rules (256 bytes) answer with a clear field error; these
# only stop absurd inputs before any work is done.
class LoginIn(_In):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class MfaLoginIn(_In):
    mfa_token: str = Field(min_length=1, max_length=4096)
    code: str = Field(min_length=1, max_length=64)


class RefreshIn(_In):
    refresh_token: str | None = Field(default=None, max_length=512)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str


class MfaRequiredOut(BaseModel):
    mfa_required: Literal[True] = True
    mfa_token: str
    expires_in: int


class PasswordForgottenIn(_In):
    username: str = Field(min_length=1, max_length=128)
    email: str = Field(min_length=1, max_length=320)


class PasswordResetIn(_In):
    token: str = Field(min_length=1, max_length=512)
    new_password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, max_length=64)


class PasswordChangeIn(_In):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class AccountSetupIn(_In):
    email: str = Field(min_length=3, max_length=320)
    new_password: str = Field(min_length=1, max_length=1024)


class AcceptedOut(BaseModel):
    status: str
    detail: str


class TotpEnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str


class TotpConfirmIn(_In):
    code: str = Field(min_length=1, max_length=16)


class TotpConfirmedOut(TokenOut):
    recovery_codes: list[str]


class AccountRequestIn(_In):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320)
    organisation_id: UUID
    message: str = Field(default="", max_length=2000)


class AccountRequestCreatedOut(BaseModel):
    id: UUID
    status: str


class AccountRequestOut(BaseModel):
    id: UUID
    name: str
    email: str
    organisation_id: UUID
    organisation_name: str
    message: str
    status: str
    reason: str | None
    user_id: UUID | None
    created_at: datetime
    decided_at: datetime | None


class AccountRequestPage(BaseModel):
    items: list[AccountRequestOut]
    total: int
    limit: int
    offset: int


class ApproveIn(_In):
    role: Role = "library_staff"
    username: str | None = Field(default=None, max_length=64)


class ApprovedOut(BaseModel):
    id: UUID
    status: str
    user_id: UUID
    username: str


class RejectIn(_In):
    reason: str = Field(default="", max_length=1000)


class RejectedOut(BaseModel):
    id: UUID
    status: str


class UserIn(_In):
    username: str | None = Field(default=None, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320)
    roles: list[Role] = Field(min_length=1, max_length=3)
    organisation_id: UUID | None = None


class UserPatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, min_length=3, max_length=320)
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=3)
    organisation_id: UUID | None = None
    disabled: bool | None = None
    reset_mfa: bool | None = None
    # The language of the platform's e-mails to this user.
    locale: Literal["nl", "en"] | None = None


class UserOut(BaseModel):
    id: UUID
    username: str
    name: str
    email: str | None
    roles: list[str]
    organisation_id: UUID | None
    organisation_name: str | None
    mfa_enabled: bool
    password_set: bool
    disabled: bool
    locale: str
    setup_required: bool
    created_at: datetime
    last_login_at: datetime | None


class MeOut(UserOut):
    mfa_required: bool


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


class OrganisationIn(_In):
    name: str = Field(min_length=1, max_length=200)
    province: str = Field(min_length=1, max_length=100)
    municipalities: list[str] = Field(min_length=1, max_length=100)
    inhabitants: int = Field(ge=0, le=20_000_000)
    source: str | None = Field(default=None, max_length=200)


class OrganisationPatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    province: str | None = Field(default=None, min_length=1, max_length=100)
    municipalities: list[str] | None = Field(default=None, min_length=1, max_length=100)
    inhabitants: int | None = Field(default=None, ge=0, le=20_000_000)
    source: str | None = Field(default=None, max_length=200)
    primary_contact_user_id: UUID | None = None


class OrganisationOut(BaseModel):
    id: UUID
    name: str
    province: str
    municipalities: list[str]
    inhabitants: int
    size_class: str
    size_class_label: str
    source: str | None
    primary_contact_user_id: UUID | None
    created_at: datetime
    updated_at: datetime


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    total: int
    limit: int
    offset: int


class ImportLineError(BaseModel):
    line: int
    message: str


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    errors: list[ImportLineError]


class ContactIn(_In):
    user_id: UUID


class StaffMemberOut(BaseModel):
    id: UUID
    name: str


class StaffPage(BaseModel):
    """An organisation's active library staff, by name (who may be contact person)."""

    items: list[StaffMemberOut]


class ContactOut(BaseModel):
    survey_id: UUID
    organisation_id: UUID
    user_id: UUID
    username: str
    name: str
    assigned_at: datetime


class RecipientOut(BaseModel):
    """The person who receives a survey's e-mails for an organisation."""

    user_id: UUID
    email: str
    name: str
    locale: str
    source: Literal["survey_contact", "primary_contact"]


# The AVG export (GET /me/export): answered as a JSON download, not an OpenAPI schema.


class ExportedAccount(UserOut):
    password_changed_at: datetime | None
    mfa_enabled_at: datetime | None
    updated_at: datetime


class ExportedAccountRequest(BaseModel):
    id: UUID
    name: str
    email: str
    organisation_id: UUID
    organisation_name: str
    message: str
    status: str
    created_at: datetime
    decided_at: datetime | None


class AccountExport(BaseModel):
    """AVG art. 15/20: every piece of personal data identity holds on a user."""

    exported_at: datetime
    controller: str
    account: ExportedAccount
    recovery_codes_remaining: int
    account_requests: list[ExportedAccountRequest]
    # Stored rows as they are (the repository's dataclasses).
    contact_person_for: list[ContactRegistrationRow]
    sessions: list[SessionRow]
    audit_log: list[AuditEntryRow]
