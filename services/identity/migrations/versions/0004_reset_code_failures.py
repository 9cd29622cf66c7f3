"""Wrong TOTP codes on a reset link are counted; the fifth spends the link (issue 10, item 2).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE password_tokens ADD COLUMN failures integer NOT NULL DEFAULT 0")


def downgrade() -> None:
    op.execute("ALTER TABLE password_tokens DROP COLUMN failures")
