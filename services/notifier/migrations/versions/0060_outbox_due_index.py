"""The outbox's due rows indexed in the relay's order (created_at): a claim reads its window only.

Revision ID: 0060
Revises: 0050
Create Date: 2026-11-30
"""

from alembic import op

from bibmon_common.messaging.outbox import OUTBOX_DUE_INDEX_DDL, OUTBOX_DUE_INDEX_DOWNGRADE

revision = "0060"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(OUTBOX_DUE_INDEX_DDL)


def downgrade() -> None:
    op.execute(OUTBOX_DUE_INDEX_DOWNGRADE)
