"""Kernel tables: transactional outbox and consumer inbox.

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


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS inbox; DROP TABLE IF EXISTS outbox;")
