"""A user may have to set an e-mail address and an own password first (issue 10, item 8).

The bootstrap `admin` is created with the operator's password and no e-mail address, so
that password would live on and no reset could ever reach the account. `setup_required`
users get tokens of scope `account_setup` at login, good only for
`POST /api/identity/me/account-setup`. An existing bootstrap admin without an e-mail
address is flagged too.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE users ADD COLUMN setup_required boolean NOT NULL DEFAULT false;
        UPDATE users SET setup_required = true WHERE username = 'admin' AND email IS NULL;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN setup_required")
