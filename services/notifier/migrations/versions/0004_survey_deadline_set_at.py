"""Survey deadline moves: when the notifier learnt the current deadline, so a moved
deadline gets reminders only for the moments after the move (no burst of the latest one).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- the notifier's clock when it learnt the current closes_at (the invitation, or
        -- the update that moved it): reminder moments before then are never sent
        ALTER TABLE survey ADD COLUMN deadline_set_at timestamptz NULL;
        UPDATE survey SET deadline_set_at = invited_at;
        ALTER TABLE survey ALTER COLUMN deadline_set_at SET NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE survey DROP COLUMN deadline_set_at")
