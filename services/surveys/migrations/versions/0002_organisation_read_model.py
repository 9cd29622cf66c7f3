"""Read model of the organisations (public master data from identity's events).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

from bibmon_common.projections import ORGANISATION_DDL

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(ORGANISATION_DDL)


def downgrade() -> None:
    op.execute("DROP TABLE organisation")
