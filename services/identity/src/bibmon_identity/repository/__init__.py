"""Every SQL statement of the identity service, one module per group of tables.

Functions take an open connection (use cases open it, and its transaction) and return
typed rows (`UserRow`, `OrganisationRow`, …: frozen dataclasses), never asyncpg records.
The package exports every function and row, so use cases write `repo.get_user(conn, …)`.
"""

from __future__ import annotations

from bibmon_identity.repository._sql import Conn, advisory_xact_lock
from bibmon_identity.repository.account_requests import (
    REQUEST_COLUMNS,
    AccountRequestRow,
    account_requests_of_user,
    decide_account_request,
    get_account_request,
    insert_account_request,
    list_account_requests,
)
from bibmon_identity.repository.audit import (
    AuditEntryRow,
    audit_of_user,
    insert_audit,
)
from bibmon_identity.repository.contacts import (
    ContactRegistrationRow,
    ContactRow,
    RecipientRow,
    contacts_of_user,
    get_contact,
    survey_recipient,
    upsert_contact,
)
from bibmon_identity.repository.mfa import (
    MfaChallengeRow,
    count_recovery_codes,
    get_mfa_challenge,
    insert_mfa_challenge,
    replace_recovery_codes,
    update_mfa_challenge,
    use_recovery_code,
)
from bibmon_identity.repository.organisations import (
    ORG_COLUMNS,
    OrganisationRow,
    all_organisations,
    count_organisations,
    get_organisation,
    get_organisation_by_name,
    insert_organisation,
    list_organisations,
    set_primary_contact_if_unset,
    update_organisation,
)
from bibmon_identity.repository.password_links import (
    PasswordLinkRow,
    count_password_token_failure,
    find_password_token,
    insert_password_token,
    spend_password_tokens,
)
from bibmon_identity.repository.refresh_tokens import (
    RefreshTokenRow,
    SessionRow,
    find_refresh_token,
    insert_refresh_token,
    list_sessions,
    mark_refresh_rotated,
    revoke_family,
    revoke_user_sessions,
)
from bibmon_identity.repository.retention import (
    purge,
)
from bibmon_identity.repository.signing_keys import (
    SigningKeyRow,
    insert_signing_key,
    list_signing_keys,
)
from bibmon_identity.repository.throttling import (
    add_rate_event,
    clear_account_throttles,
    clear_throttle,
    count_rate_events,
    is_known_address,
    lock_throttle,
    oldest_rate_event,
    remember_address,
    save_throttle,
)
from bibmon_identity.repository.users import (
    USER_COLUMNS,
    UserRow,
    any_user_id,
    delete_user,
    existing_usernames,
    get_user,
    get_user_by_username,
    insert_user,
    list_users,
    update_user,
    username_taken,
)

__all__ = [
    "ORG_COLUMNS",
    "REQUEST_COLUMNS",
    "USER_COLUMNS",
    "AccountRequestRow",
    "AuditEntryRow",
    "Conn",
    "ContactRegistrationRow",
    "ContactRow",
    "MfaChallengeRow",
    "OrganisationRow",
    "PasswordLinkRow",
    "RecipientRow",
    "RefreshTokenRow",
    "SessionRow",
    "SigningKeyRow",
    "UserRow",
    "account_requests_of_user",
    "add_rate_event",
    "advisory_xact_lock",
    "all_organisations",
    "any_user_id",
    "audit_of_user",
    "clear_account_throttles",
    "clear_throttle",
    "contacts_of_user",
    "count_organisations",
    "count_password_token_failure",
    "count_rate_events",
    "count_recovery_codes",
    "decide_account_request",
    "delete_user",
    "existing_usernames",
    "find_password_token",
    "find_refresh_token",
    "get_account_request",
    "get_contact",
    "get_mfa_challenge",
    "get_organisation",
    "get_organisation_by_name",
    "get_user",
    "get_user_by_username",
    "insert_account_request",
    "insert_audit",
    "insert_mfa_challenge",
    "insert_organisation",
    "insert_password_token",
    "insert_refresh_token",
    "insert_signing_key",
    "insert_user",
    "is_known_address",
    "list_account_requests",
    "list_organisations",
    "list_sessions",
    "list_signing_keys",
    "list_users",
    "lock_throttle",
    "mark_refresh_rotated",
    "oldest_rate_event",
    "purge",
    "remember_address",
    "replace_recovery_codes",
    "revoke_family",
    "revoke_user_sessions",
    "save_throttle",
    "set_primary_contact_if_unset",
    "spend_password_tokens",
    "survey_recipient",
    "update_mfa_challenge",
    "update_organisation",
    "update_user",
    "upsert_contact",
    "use_recovery_code",
    "username_taken",
]
