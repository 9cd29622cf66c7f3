"""Sessions identity ended early, whose access tokens this service refuses until they expire.

Revision ID: 0050
Revises: 0006
Create Date: 2026-11-29
"""

from alembic import op

from bibmon_common.projections import SESSION_REVOCATION_DDL

revision = "0050"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(SESSION_REVOCATION_DDL)


def downgrade() -> None:
    op.execute("DROP TABLE revoked_session")
