"""Login throttle per account and client address; addresses an account logged in from.

Issue 10, item 3 (NIST SP 800-63B-4 §3.2.2: limit guessing without enabling denial of
service). A `login_throttle` row is now either an account's (slow-down only) or an
(account, address) pair's (slow-down and the 15-minute lock); a pair row names its
account's key so a password reset clears them all. `login_known_addresses` holds hashes
of (username, address) pairs with a successful login in the last 90 days: there the
account-wide slow-down does not apply.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE login_throttle ADD COLUMN account_key bytea NULL;
        CREATE INDEX login_throttle_account_idx ON login_throttle (account_key);
        CREATE TABLE login_known_addresses (
            key             bytea PRIMARY KEY,
            last_success_at timestamptz NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE login_known_addresses;
        DROP INDEX login_throttle_account_idx;
        ALTER TABLE login_throttle DROP COLUMN account_key;
        """
    )
