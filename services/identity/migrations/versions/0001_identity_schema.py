"""Identity schema: kernel outbox/inbox, organisations, users, tokens, sessions, MFA, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from alembic import op

from bibmon_common.messaging.outbox import OUTBOX_INBOX_DDL

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(OUTBOX_INBOX_DDL)
    op.execute(
        """
        CREATE TABLE organisations (
            id                      uuid PRIMARY KEY,
            name                    text NOT NULL,
            province                text NOT NULL,
            municipalities          text[] NOT NULL DEFAULT '{}',
            inhabitants             integer NOT NULL CHECK (inhabitants >= 0),
            size_class              text NOT NULL,
            source                  text NULL,
            primary_contact_user_id uuid NULL,
            created_at              timestamptz NOT NULL DEFAULT now(),
            updated_at              timestamptz NOT NULL DEFAULT now()
        );
        -- the name is the import key, compared case-insensitively
        CREATE UNIQUE INDEX organisations_name_key ON organisations (lower(name));
        CREATE INDEX organisations_province_idx ON organisations (province);
        CREATE INDEX organisations_size_class_idx ON organisations (size_class);

        CREATE TABLE users (
            id                  uuid PRIMARY KEY,
            username            text NOT NULL,
            name                text NOT NULL,
            email               text NULL,
            roles               text[] NOT NULL,
            organisation_id     uuid NULL REFERENCES organisations (id),
            password_hash       text NULL,
            password_changed_at timestamptz NULL,
            totp_secret         bytea NULL,       -- AES-GCM ciphertext (domain/crypto.py)
            totp_confirmed_at   timestamptz NULL,
            totp_last_step      bigint NULL,      -- last accepted step: a code works once
            mfa_failures        integer NOT NULL DEFAULT 0,
            mfa_locked_until    timestamptz NULL,
            disabled            boolean NOT NULL DEFAULT false,
            created_at          timestamptz NOT NULL DEFAULT now(),
            updated_at          timestamptz NOT NULL DEFAULT now(),
            last_login_at       timestamptz NULL
        );
        CREATE UNIQUE INDEX users_username_key ON users (lower(username));
        CREATE INDEX users_organisation_idx ON users (organisation_id);
        ALTER TABLE organisations ADD CONSTRAINT organisations_primary_contact_fk
            FOREIGN KEY (primary_contact_user_id) REFERENCES users (id) ON DELETE SET NULL;

        CREATE TABLE recovery_codes (
            user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            code_hash  bytea NOT NULL,
            used_at    timestamptz NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, code_hash)
        );

        -- single-use links: password reset (30 min) and account activation (72 h)
        CREATE TABLE password_tokens (
            id         uuid PRIMARY KEY,
            user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            purpose    text NOT NULL CHECK (purpose IN ('reset', 'activation')),
            token_hash bytea NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at    timestamptz NULL
        );
        CREATE INDEX password_tokens_user_idx ON password_tokens (user_id);
        CREATE INDEX password_tokens_expires_idx ON password_tokens (expires_at);

        -- refresh tokens: one row per issued token, rotated on use, a family is one login
        CREATE TABLE refresh_tokens (
            id                 uuid PRIMARY KEY,
            family_id          uuid NOT NULL,
            user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            token_hash         bytea NOT NULL UNIQUE,
            scope              text NOT NULL,
            amr                text[] NOT NULL,
            created_at         timestamptz NOT NULL DEFAULT now(),
            idle_expires_at    timestamptz NOT NULL,
            family_expires_at  timestamptz NOT NULL,
            rotated_at         timestamptz NULL,
            revoked_at         timestamptz NULL
        );
        CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
        CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
        CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (family_expires_at);

        -- the second login step: one row per mfa_token
        CREATE TABLE mfa_challenges (
            id         uuid PRIMARY KEY,
            user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            failures   integer NOT NULL DEFAULT 0,
            used_at    timestamptz NULL
        );

        -- consecutive failed logins per submitted username (hashed, unknown names too)
        CREATE TABLE login_throttle (
            key             bytea PRIMARY KEY,
            failures        integer NOT NULL,
            last_failure_at timestamptz NOT NULL,
            locked_until    timestamptz NULL
        );
        -- sliding-window counters (failed logins per address, reset requests per account or address)
        CREATE TABLE rate_events (
            key         bytea NOT NULL,
            occurred_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX rate_events_key_idx ON rate_events (key, occurred_at);

        CREATE TABLE signing_keys (
            kid         text PRIMARY KEY,
            private_key bytea NOT NULL,   -- AES-GCM ciphertext of the PKCS#8 PEM
            created_at  timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE account_requests (
            id              uuid PRIMARY KEY,
            name            text NOT NULL,
            email           text NOT NULL,
            organisation_id uuid NOT NULL REFERENCES organisations (id),
            message         text NOT NULL DEFAULT '',
            status          text NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'approved', 'rejected')),
            reason          text NULL,
            user_id         uuid NULL REFERENCES users (id) ON DELETE SET NULL,
            created_at      timestamptz NOT NULL DEFAULT now(),
            decided_at      timestamptz NULL,
            decided_by      uuid NULL
        );
        CREATE INDEX account_requests_status_idx ON account_requests (status, created_at);

        CREATE TABLE survey_contacts (
            survey_id       uuid NOT NULL,
            organisation_id uuid NOT NULL REFERENCES organisations (id),
            user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            assigned_at     timestamptz NOT NULL DEFAULT now(),
            assigned_by     uuid NULL,
            PRIMARY KEY (survey_id, organisation_id)
        );
        CREATE INDEX survey_contacts_user_idx ON survey_contacts (user_id);

        -- BIO2 8.15.01: who, what, object, result, origin, time (UTC), never secrets or e-mail
        CREATE TABLE audit_log (
            id            bigserial PRIMARY KEY,
            occurred_at   timestamptz NOT NULL DEFAULT now(),
            actor_user_id uuid NULL,
            action        text NOT NULL,
            object_type   text NULL,
            object_id     text NULL,
            result        text NOT NULL,
            origin        text NULL,
            details       jsonb NOT NULL DEFAULT '{}'::jsonb
        );
        CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at);
        CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS audit_log, survey_contacts, account_requests, signing_keys,
            rate_events, login_throttle, mfa_challenges, refresh_tokens, password_tokens,
            recovery_codes CASCADE;
        ALTER TABLE IF EXISTS organisations DROP CONSTRAINT IF EXISTS organisations_primary_contact_fk;
        DROP TABLE IF EXISTS users, organisations CASCADE;
        DROP TABLE IF EXISTS inbox, outbox;
        """
    )
