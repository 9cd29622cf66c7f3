"""Users and roles: who must use TOTP, how usernames and e-mail addresses look."""

from __future__ import annotations

import re
from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email

from bibmon_identity.domain.organisations import slug
from bibmon_identity.domain.passwords import MIN_LENGTH_SINGLE_FACTOR, MIN_LENGTH_WITH_TOTP

LIBRARY_STAFF = "library_staff"
KB_ADMIN = "kb_admin"
RESEARCHER = "researcher"
ROLES = frozenset({LIBRARY_STAFF, KB_ADMIN, RESEARCHER})
# BIO2 5.17.01: MFA for internet-facing accounts with admin rights and by risk analysis.
MFA_REQUIRED_ROLES = frozenset({KB_ADMIN, RESEARCHER})
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$")


def requires_mfa(roles: Iterable[str]) -> bool:
    """True when one of the roles must log in with TOTP."""
    return bool(MFA_REQUIRED_ROLES.intersection(roles))


def min_password_length(*, has_totp: bool, roles: Iterable[str]) -> int:
    """15 characters for a single factor, 12 when TOTP is (or will be) the second factor."""
    return MIN_LENGTH_WITH_TOTP if has_totp or requires_mfa(roles) else MIN_LENGTH_SINGLE_FACTOR


def normalise_username(username: str) -> str:
    """Usernames compare case-insensitively."""
    return username.strip().lower()


def valid_username(username: str) -> bool:
    """Lower-case letters, digits, dot, dash, underscore; 3–64 characters."""
    return bool(USERNAME_PATTERN.match(username))


def derive_username(name: str, email: str) -> str:
    """A username from the e-mail local part (or the name), e.g. `j.de-vries`."""
    local = email.split("@", 1)[0].lower()
    candidate = re.sub(r"[^a-z0-9._-]+", "-", local).strip("._-")
    if not valid_username(candidate):
        candidate = slug(name)[:60] or "user"
    if len(candidate) < 3:
        candidate = f"{candidate}-user"
    return candidate[:64].strip("._-")


def normalise_email(email: str) -> str | None:
    """The normalised address, or None when it is not a syntactically valid address."""
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized
