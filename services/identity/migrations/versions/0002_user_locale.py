"""Users get a language for the platform's e-mails (nl or en).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE users ADD COLUMN locale text NOT NULL DEFAULT 'nl'
            CONSTRAINT users_locale_check CHECK (locale IN ('nl', 'en'));
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN locale")
