"""Settings of the identity service (env prefix BIBMON_IDENTITY_)."""

from __future__ import annotations

import base64
import binascii
import hashlib

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from bibmon_common.settings import ServiceSettings
from bibmon_identity.domain.organisations import DEFAULT_SIZE_BOUNDS
from bibmon_identity.domain.throttling import ThrottlePolicy

# The development data key is derived from this text; production refuses it (it contains
# "development", see ServiceSettings.check_secrets) and needs a real base64 32-byte key.
DEVELOPMENT_DATA_KEY = "development-only-identity-data-key"
# The development value of the identity–notifier recipient secret; the notifier's
# `identity_token_secret` has the same default so a bare development setup works.
DEVELOPMENT_RECIPIENT_TOKEN_SECRET = "development-only-recipient-token-secret"


class IdentitySettings(ServiceSettings):
    """Everything the identity service reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="BIBMON_IDENTITY_", extra="ignore", populate_by_name=True
    )

    database_url: str = "postgresql://bibmon_identity@127.0.0.1:5432/bibmon_identity"

    # Secrets. BIBMON_IDENTITY_DATA_KEY: base64 of 32 random bytes (AES-256-GCM for TOTP
    # seeds and stored signing keys). BIBMON_IDENTITY_SIGNING_KEY_PEM: optional Ed25519
    # PKCS#8 PEM; without it a key is generated once and kept (encrypted) in the database.
    data_key: SecretStr = SecretStr(DEVELOPMENT_DATA_KEY)
    signing_key_pem: SecretStr | None = None
    signing_key_rotation_days: int = 90
    bootstrap_admin_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "BIBMON_IDENTITY_BOOTSTRAP_ADMIN_PASSWORD",
            "BIBMON_BOOTSTRAP_ADMIN_PASSWORD",
            "bootstrap_admin_password",
        ),
    )
    demo_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "BIBMON_IDENTITY_DEMO_PASSWORD", "BIBMON_DEMO_PASSWORD", "demo_password"
        ),
    )
    # BIBMON_IDENTITY_RECIPIENT_TOKEN_SECRET: signs the service token of the one call that
    # hands out e-mail addresses (GET /internal/identity/surveys/…/recipient, ADR 0009).
    # Shared with the notifier only (its BIBMON_NOTIFIER_IDENTITY_TOKEN_SECRET), never the
    # `service_token_secret` every service holds: another service cannot claim to be the
    # notifier. Production refuses the development value (it contains "development").
    recipient_token_secret: SecretStr = SecretStr(DEVELOPMENT_RECIPIENT_TOKEN_SECRET)

    # Tokens (docs/reliability.md 5.4-5.6).
    # At most 60: services remember an ended session for bibmon_common.auth.REVOCATION_KEPT.
    access_token_minutes: int = Field(default=10, ge=1, le=60)
    refresh_idle_minutes: int = 30
    refresh_absolute_hours: int = 12
    mfa_token_minutes: int = 5
    reset_token_minutes: int = 30
    activation_token_hours: int = 72
    cookie_secure: bool | None = None  # default: public_base_url is https

    # Organisation size classes: upper bounds (exclusive) of small, medium, large.
    size_class_bounds: tuple[int, int, int] = DEFAULT_SIZE_BOUNDS

    # argon2id (RFC 9106 low-memory profile). Lower only in tests: production refuses
    # anything below the OWASP minimum (m=19 MiB, t=2).
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65_536
    argon2_parallelism: int = 4
    hash_concurrency: int = 4

    # Throttling (docs/reliability.md 5.3).
    throttle_slow_after: int = 5
    throttle_first_delay_seconds: float = 1.0
    throttle_max_delay_seconds: float = 60.0
    throttle_lock_after: int = 20
    throttle_lock_minutes: float = 15.0
    throttle_ip_failures: int = 30
    throttle_ip_window_seconds: int = 300
    reset_per_account_per_hour: int = 3
    reset_per_ip_per_hour: int = 10
    account_requests_per_ip_per_hour: int = 10

    # Retention (docs/reliability.md 6).
    audit_retention_days: int = 3 * 365
    rejected_request_retention_days: int = 30
    purge_interval_seconds: float = 24 * 3600

    @model_validator(mode="after")
    def _production_rules(self) -> IdentitySettings:
        if self.environment == "production":
            if self.argon2_memory_kib < 19_456 or self.argon2_time_cost < 2:
                raise ValueError("argon2 parameters below the OWASP minimum in production")
            self.data_key_bytes()
        low, mid, high = self.size_class_bounds
        if not 0 < low < mid < high:
            raise ValueError("size_class_bounds must be three increasing positive numbers")
        return self

    def data_key_bytes(self) -> bytes:
        """The 32-byte data key; outside production a non-base64 value is hashed into one."""
        value = self.data_key.get_secret_value()
        try:
            key = base64.b64decode(value, validate=True)
            if len(key) == 32:
                return key
        except (binascii.Error, ValueError):
            pass
        if self.environment == "production":
            raise ValueError("BIBMON_IDENTITY_DATA_KEY must be base64 of 32 random bytes")
        return hashlib.sha256(value.encode()).digest()

    @property
    def secure_cookies(self) -> bool:
        """Cookies get `Secure` (and the `__Host-` prefix) when served over https."""
        if self.cookie_secure is None:
            return self.public_base_url.startswith("https://")
        return self.cookie_secure

    def throttle_policy(self) -> ThrottlePolicy:
        """The throttling numbers as a domain value."""
        return ThrottlePolicy(
            slow_after=self.throttle_slow_after,
            first_delay_seconds=self.throttle_first_delay_seconds,
            max_delay_seconds=self.throttle_max_delay_seconds,
            lock_after=self.throttle_lock_after,
            lock_minutes=self.throttle_lock_minutes,
            ip_failures=self.throttle_ip_failures,
            ip_window_seconds=self.throttle_ip_window_seconds,
            reset_per_account_per_hour=self.reset_per_account_per_hour,
            reset_per_ip_per_hour=self.reset_per_ip_per_hour,
        )
